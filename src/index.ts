/**
 * The library API of `mitm`. Start a proxy for a test harness with `startProxy({ port: 0 })`;
 * manage the root CA with the `ca` functions. Importing this module has no side effects.
 */
export { startProxy, type RunningProxy } from './proxy/start.js';
export type { ProxyOptions, ProxyConfig } from './config/schema.js';
export type { FlowRecord, TunnelRecord, ClientIssue, ProxyEventMap } from './proxy/events.js';
export { MitmError, isMitmError, ERROR_CODES, type ErrorCode } from './errors.js';
export {
  initCa,
  loadCa,
  importCa,
  describeCa,
  exportCa,
  type CertificateAuthority,
} from './ca/authority.js';
