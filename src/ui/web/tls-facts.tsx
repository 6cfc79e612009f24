import type { ClientTlsFacts, FlowTls, HeaderPair, OriginTlsFacts } from '../api-types.js';

function alpnOf(offered: readonly string[] | undefined, chosen: string | undefined): string {
  const got = chosen ?? 'none';
  if (offered === undefined) return got;
  return `${got} (offered: ${offered.length > 0 ? offered.join(', ') : 'none'})`;
}

function clientRows(client: ClientTlsFacts): HeaderPair[] {
  return [
    ['SNI', client.sni || '(none)'],
    ['ALPN', alpnOf(client.alpnOffered, client.alpn)],
    ['Version', client.version],
    ['Cipher', client.cipher],
  ];
}

function originRows(origin: OriginTlsFacts): HeaderPair[] {
  const rows: HeaderPair[] = [
    ['SNI', origin.sni || '(none)'],
    ['ALPN', origin.alpn ?? 'none'],
    ['Version', `${origin.version}${origin.resumed ? ' (resumed session)' : ''}`],
    ['Cipher', origin.cipher],
  ];
  const cert = origin.certificate;
  if (cert) {
    rows.push(
      ['Certificate subject', cert.subject],
      ['Names (SAN)', cert.sans.join(', ')],
      ['Issuer', cert.issuer],
      ['Valid', `${cert.validFrom} → ${cert.validTo}`],
      ['SHA-256', cert.sha256],
    );
  }
  return rows;
}

function Side(props: { readonly title: string; readonly rows: readonly HeaderPair[]; readonly testId: string }) {
  return (
    <>
      <h4>{props.title}</h4>
      <table class="pairs" data-testid={props.testId}>
        <tbody>
          {props.rows.map(([name, value]) => (
            <tr key={name}>
              <th>{name}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** What TLS negotiated with the client and with the origin, and the origin's certificate; nothing for plain HTTP. */
export function TlsFacts(props: { readonly tls: FlowTls | undefined }) {
  const { tls } = props;
  if (tls === undefined) return <p class="muted">No TLS on either side (plain HTTP).</p>;
  return (
    <section data-testid="tls-facts">
      <h3>TLS</h3>
      {tls.client ? <Side title="Client ↔ proxy" rows={clientRows(tls.client)} testId="tls-client" /> : null}
      {tls.origin ? <Side title="Proxy ↔ origin" rows={originRows(tls.origin)} testId="tls-origin" /> : null}
    </section>
  );
}
