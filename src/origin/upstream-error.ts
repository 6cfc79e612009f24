import { isMitmError, MitmError } from '../errors.js';

// OpenSSL X509_V_ERR_* names as Node reports them in `err.code`, plus Node's own name check.
const VERIFY_FAILURES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

// What the reader of a verification failure can do about it, on the same line (docs/errors.md).
// Trusting another CA cures an unknown issuer, not a wrong name or a date out of range.
const TRUST_FIX = " — trust the origin's CA with --upstream-ca FILE, or use --insecure";
const NAME_FIX = ' — the certificate is for other names; use --insecure to accept it anyway';
const DATE_FIX = ' — the certificate is outside its validity period; use --insecure to accept it anyway';
// An origin answering a ClientHello with plain HTTP makes OpenSSL report a "wrong version number".
const PLAIN_FIX = ' — the origin does not speak TLS on this port (plain HTTP? then use an http:// URL)';
const NAME_FAILURES = new Set(['HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID']);
const DATE_FAILURES = new Set([
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
]);

/**
 * Turns whatever a connection or request to an origin failed with into a `MitmError` whose
 * one-line message names the origin (`authority`) and the reason, as the client will read it.
 */
export function classifyUpstreamError(error: unknown, authority: string): MitmError {
  if (isMitmError(error)) return error;
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  const reason = error instanceof Error ? error.message : String(error);
  const cause = { cause: error };
  if (VERIFY_FAILURES.has(code)) {
    return new MitmError(
      'upstream_tls_verify',
      `upstream certificate verification failed for ${authority}: ${reason}${verifyFix(code)}`,
      cause,
    );
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new MitmError('upstream_refused', `connection refused by ${authority}`, cause);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new MitmError('upstream_dns', `cannot resolve the host of ${authority} (${code})`, cause);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return new MitmError('upstream_unreachable', `${authority} is unreachable (${code})`, cause);
    case 'ETIMEDOUT':
      return new MitmError('upstream_timeout', `connecting to ${authority} timed out`, cause);
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    // RFC 8446 §6.2 certificate_required: the origin wants mutual TLS and we sent no certificate.
    return new MitmError(
      'upstream_tls',
      `TLS handshake with ${authority} failed: it requires a client certificate (give one with --client-cert)`,
      cause,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
    const fix = code === 'ERR_SSL_WRONG_VERSION_NUMBER' ? PLAIN_FIX : '';
    return new MitmError('upstream_tls', `TLS handshake with ${authority} failed: ${shortReason(error, reason)}${fix}`, cause);
  }
  if (code.startsWith('HPE_')) {
    // llhttp (Node's parser, and undici's) refused the head: the origin did answer, wrongly.
    const why = shortReason(error, reason);
    return new MitmError('upstream_reset', `${authority} sent a response that is not valid HTTP/1.1 (${why})`, cause);
  }
  const detail = code || reason;
  return new MitmError('upstream_reset', `${authority} closed the connection before answering (${detail})`, cause);
}

/**
 * The short reason Node puts on OpenSSL and llhttp errors (`wrong version number`, `Invalid status
 * code`) rather than the whole message, which for OpenSSL carries its error queue, source file
 * names and a trailing newline; else the message's first line without llhttp's `Parse Error: `.
 */
function shortReason(error: unknown, message: string): string {
  const reason = (error as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  return (message.split('\n')[0] ?? message).replace(/^Parse Error: /, '').trim();
}

/** The remedy appended to a verification failure with OpenSSL/Node `code`. */
function verifyFix(code: string): string {
  if (NAME_FAILURES.has(code)) return NAME_FIX;
  if (DATE_FAILURES.has(code)) return DATE_FIX;
  return TRUST_FIX;
}
