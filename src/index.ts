/**
 * The library API of `mitm`. Start a proxy for a test harness with `startProxy({ port: 0 })`;
 * manage the root CA with the `ca` functions. Importing this module has no side effects.
 */
export { startProxy, type StartOptions } from './proxy/start.js';
export type { RunningProxy } from './proxy/proxy-handle.js';
export type { Hook, ConnectContext, ConnectVerdict, Awaitable } from './hooks/types.js';
export type { Flow, FlowRequest, FlowResponse, FlowClient, FlowTimings, ResponseInit } from './flow/flow.js';
export type { HeaderMap } from './flow/header-map.js';
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
