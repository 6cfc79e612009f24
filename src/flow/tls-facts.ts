// The TLS facts of a flow: what its client connection (TLS session #1) and its origin connection
// (TLS session #2) negotiated. Gathered once per connection (tls/client-tls.ts,
// origin/origin-connection.ts) and shared by every flow the connection carries; plain data, so the
// store, the HAR, the log and the inspector's API carry them as they are.

/** The client side: what the client asked for and what it got from us. */
export interface ClientTlsFacts {
  /** The server name the client sent (SNI); '' when it sent none. */
  readonly sni: string;
  /** The ALPN protocols the client offered, in its order (empty: it offered none); absent when its ClientHello could not be read. */
  readonly alpnOffered?: readonly string[] | undefined;
  /** The protocol chosen (`h2`, `http/1.1`); absent when none was negotiated. */
  readonly alpn?: string | undefined;
  /** `TLSv1.3`, `TLSv1.2`. */
  readonly version: string;
  /** The cipher suite's IANA name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
}

/** The origin's leaf certificate, as presented on the connection. */
export interface OriginCertificateFacts {
  /** The subject's common name (CN), else its whole subject on one line. */
  readonly subject: string;
  /** The subjectAltName entries without their type: DNS names and IP addresses. */
  readonly sans: readonly string[];
  /** The issuer's common name (CN), else its organisation or whole name. */
  readonly issuer: string;
  /** ISO 8601. */
  readonly validFrom: string;
  /** ISO 8601. */
  readonly validTo: string;
  /** SHA-256 of the leaf (DER), colon-separated upper-case hex as OpenSSL prints it. */
  readonly sha256: string;
  /** SHA-256 of each certificate of the chain the origin presented, leaf first (the leaf alone on a resumed session). */
  readonly chainSha256: readonly string[];
}

/** The origin side: what we negotiated with the origin. */
export interface OriginTlsFacts {
  /** The server name we sent (SNI); '' for none (an IP literal). */
  readonly sni: string;
  /** The protocol the origin chose; absent when none was negotiated. */
  readonly alpn?: string | undefined;
  readonly version: string;
  readonly cipher: string;
  /** The session was resumed from an earlier connection's ticket. */
  readonly resumed: boolean;
  /** Absent when the origin presented none (a resumed session may not carry it). */
  readonly certificate?: OriginCertificateFacts | undefined;
}

/** Both sides of a flow; a side is absent where it spoke plain HTTP (or, for the origin, was never contacted). */
export interface FlowTls {
  readonly client?: ClientTlsFacts | undefined;
  readonly origin?: OriginTlsFacts | undefined;
}
