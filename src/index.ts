/**
 * The library API of `mitm`. Start a proxy for a test harness with `startProxy({ port: 0 })`;
 * manage the root CA with the `ca` functions. Importing this module has no side effects.
 */
export { startProxy, type StartOptions } from './proxy/start.js';
export type { OriginLookup } from './origin/dial.js';
export type { RunningProxy } from './proxy/proxy-handle.js';
export type { Hook, ConnectContext, ConnectVerdict, Awaitable } from './hooks/types.js';
export { setHeaders, type SetHeadersOptions, type HeaderEdits } from './hooks/set-headers.js';
export { blockHosts, blockRequests } from './hooks/block-hosts.js';
export { flowFilter } from './proxy/flag-hooks.js';
export { mapRemote } from './hooks/map-remote.js';
export { throttle, type ThrottleOptions } from './hooks/throttle.js';
export { failRequests, type FailRequestsOptions, type FailureKind } from './hooks/fail-requests.js';
export { mapLocal } from './hooks/map-local.js';
export { mockServer, type MockServer, type MockServerOptions, type MockCall } from './hooks/mock-server.js';
export { MockRule, type MockCriteria } from './hooks/mock-rule.js';
export type { MockAnswer, MockRuleData } from './hooks/mock-data.js';
export type { HeaderMatchers, BodyMatcher } from './hooks/mock-match.js';
export type { UrlPattern } from './hooks/url-pattern.js';
export type { Flow, FlowRequest, FlowResponse, FlowClient, FlowTimings, OriginConnectionFacts, ResponseInit } from './flow/flow.js';
export type { ClientTlsFacts, FlowTls, OriginCertificateFacts, OriginTlsFacts } from './flow/tls-facts.js';
export type { HeaderMap } from './flow/header-map.js';
export type { WebSocketMessage, WebSocketDirection, RecordedWebSocketMessage, WebSocketLog } from './flow/ws-message.js';
export type { ProxyOptions, ProxyConfig } from './config/schema.js';
export type {
  FlowRecord,
  TunnelRecord,
  ClientIssue,
  ClientRefusal,
  AutoPassthroughRecord,
  HookFault,
  HeldEdits,
  HeldFlow,
  HeldPhase,
  HeldRelease,
  MessageRecord,
  ProxyEventMap,
} from './events.js';
export type { BreakpointControl, BreakpointInit, BreakpointRule, BreakpointSide } from './hooks/breakpoints.js';
export { MitmError, isMitmError, ERROR_CODES, type ErrorCode } from './errors.js';
export {
  initCa,
  loadCa,
  importCa,
  describeCa,
  exportCa,
  exportCaWithKey,
  type CertificateAuthority,
} from './ca/authority.js';
export { clientEnv, clientEnvVars, clientProxyUrl, formatExports, shellQuote, type ClientEnvOptions } from './harness/client-env.js';
export { toHar } from './record/har.js';
export { writeHarFile } from './record/write-har.js';
export type { Har } from './record/har-types.js';
export type { ListenerInfo } from './config/modes.js';
export { openStore, type SessionStore } from './record/store/open-store.js';
export {
  followStore,
  lastStoredId,
  openStoreWhenReady,
  type FollowOptions,
  type StoreFollower,
  type WaitOptions,
} from './record/store/follow-store.js';
export type { StoredFlow, StoredFlowHead, StoredBody, StoreOptions, QueryOptions, StoreStats, HeaderPair } from './record/store/types.js';
export type { FlowQueryOptions } from './proxy/query-flows.js';
export type { StoreErrorRecord } from './events.js';
export { FilterError, compileFilter, parseFilter, printFilter, subjectOfStored, type FilterSubject } from './record/filter/filter.js';
export { storedToHar } from './record/har-stored.js';
export { importHar } from './record/har-import.js';
export { curlCommand } from './record/curl-command.js';
export { replay, type ReplayOptions, type ReplayResult } from './record/replay.js';
export { serverReplay, type ServerReplay, type ServerReplayOptions, type LeftOutRecording } from './record/server-replay.js';
export { readRecording } from './record/replay-source.js';
export type { ReplayEdits, ReplayedFlow } from './proxy/replay-flow.js';
export {
  startUi,
  proxySource,
  storeSource,
  uiGuardHook,
  type StoreSourceOptions,
  type RunningUi,
  type UiOptions,
  type UiSource,
  type InspectedProxy,
} from './ui/ui.js';
