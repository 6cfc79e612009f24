// The web inspector's entry point (docs/ui.md): the server, its two sources, and the guard hook.
export type { ConnectionEvent, FlowDetail, FlowPage, FlowSummary, PushMessage, UiStats } from './api-types.js';
export { proxySource, type InspectedProxy, type ProxySourceOptions } from './sources/proxy-source.js';
export type { ListOptions, SourceListener, UiSource } from './sources/source.js';
export { startUi, type RunningUi, type UiOptions } from './start-ui.js';
export { storeSource, type StoreSourceOptions } from './sources/store-source.js';
export { uiGuardHook } from './http/ui-guard.js';
