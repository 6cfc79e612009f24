// The HTML of the CA download page. Self-contained (inline CSS, no scripts, no external assets):
// it is typically opened on a device that does not trust the CA yet, often without other network.

/** What the page shows about the running proxy and its CA. */
export interface LandingFacts {
  /** SHA-256 fingerprint, colon-separated hex, as `mitm ca info` prints it. */
  readonly fingerprint: string;
  /** The CA subject on one line. */
  readonly subject: string;
  readonly notAfter: Date;
  /** The proxy as this client reached it: `http://127.0.0.1:8080`. */
  readonly proxyUrl: string;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 1.8rem; border-bottom: 1px solid #ddd; }
code, pre { font: 14px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f4f4f6; padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.fp { word-break: break-all; font-weight: 600; }
.downloads a { display: inline-block; margin: 0 .6rem .6rem 0; padding: .45rem .9rem; border: 1px solid #0a58ca; border-radius: 6px; text-decoration: none; }
.warn { background: #fff4e5; border-left: 4px solid #f0a020; padding: .5rem .8rem; }
`;

/** The whole page. Every interpolated value is escaped, including ones that come from our own CA. */
export function landingHtml(facts: LandingFacts): string {
  const fingerprint = escapeHtml(facts.fingerprint);
  const proxy = escapeHtml(facts.proxyUrl);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mitm: install the root CA</title>
<style>${STYLE}</style>
</head>
<body>
<h1>mitm root CA</h1>
<p>This proxy decrypts HTTPS with certificates signed by the root CA below. Install it on a device
to see that device's HTTPS traffic without certificate warnings.</p>
<p class="warn">Trust it only on devices you control, and remove it when you are done: whoever
holds its private key can impersonate any website to a device that trusts it.</p>

<p>Subject: <code>${escapeHtml(facts.subject)}</code><br>
Valid until: <code>${escapeHtml(facts.notAfter.toISOString())}</code><br>
SHA-256 fingerprint: <span class="fp">${fingerprint}</span></p>
<p>Compare the fingerprint with the one the installer or <code>mitm ca info</code> shows before
trusting the certificate.</p>

<div class="downloads">
<a href="/cert/pem" download="mitm-ca.pem">mitm-ca.pem</a>
<a href="/cert/der" download="mitm-ca.cer">mitm-ca.cer (DER)</a>
<a href="/cert/p12" download="mitm-ca.p12">mitm-ca.p12 (PKCS#12)</a>
</div>
<p>PEM for Linux, curl, Node.js, Python and Firefox; DER (<code>.cer</code>) for Windows, Android
and macOS; PKCS#12 where an importer asks for it (certificate only, empty password).</p>

<h2>Debian, Ubuntu</h2>
<pre>sudo cp mitm-ca.pem /usr/local/share/ca-certificates/mitm.crt
sudo update-ca-certificates</pre>
<p>To undo: delete the file and run <code>sudo update-ca-certificates --fresh</code>.
Fedora/RHEL: copy it to <code>/etc/pki/ca-trust/source/anchors/</code> and run
<code>sudo update-ca-trust</code>.</p>

<h2>Chromium, Chrome (Linux)</h2>
<pre>certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n mitm -i mitm-ca.pem</pre>
<p><code>certutil</code> comes with <code>libnss3-tools</code>. Restart the browser afterwards.</p>

<h2>Firefox</h2>
<p>Settings → Privacy &amp; Security → Certificates → View Certificates → Authorities → Import,
pick <code>mitm-ca.pem</code> and tick "Trust this CA to identify websites". Or, with the
browser closed:</p>
<pre>certutil -d sql:$HOME/.mozilla/firefox/&lt;profile&gt; -A -t "C,," -n mitm -i mitm-ca.pem</pre>

<h2>macOS</h2>
<pre>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain mitm-ca.cer</pre>

<h2>Windows</h2>
<p>In an administrator prompt:</p>
<pre>certutil -addstore Root mitm-ca.cer</pre>

<h2>Android</h2>
<p>Settings → Security → Encryption &amp; credentials → Install a certificate → CA certificate, then
pick <code>mitm-ca.cer</code>. Since Android 7, apps trust user-installed CAs only if their network
security configuration allows it; browsers usually do.</p>

<h2>iOS, iPadOS</h2>
<p>Open this page in Safari and tap <code>mitm-ca.cer</code>, install the profile under
Settings → General → VPN &amp; Device Management, then turn on full trust under Settings → General →
About → Certificate Trust Settings.</p>

<h2>Command-line tools</h2>
<p>Without installing anything system-wide, point one shell at the proxy:</p>
<pre>export HTTPS_PROXY=${proxy} HTTP_PROXY=${proxy}
export NODE_EXTRA_CA_CERTS=$PWD/mitm-ca.pem     # Node.js (adds to its roots)
export CURL_CA_BUNDLE=$PWD/mitm-ca.pem          # curl (replaces its roots)
export REQUESTS_CA_BUNDLE=$PWD/mitm-ca.pem      # Python requests (replaces its roots)</pre>
<p>On the proxy's machine, <code>eval "$(mitm env --port PORT)"</code> sets all of these with a
bundle that keeps the system roots, and <code>mitm run -- COMMAND</code> runs one command that way
(Node programs included, through a preload).</p>
</body>
</html>
`;
}
