import type { CertificateAuthority } from '../ca/authority.js';
import type { CertCache } from '../ca/cert-cache.js';
import type { ProxyConfig } from '../config/schema.js';
import { newViaMarker } from '../exchange/via.js';
import { createHostPolicy } from '../inbound/host-policy.js';
import type { ProxyRuntime } from '../inbound/runtime.js';
import type { FlowRecord } from '../events.js';
import type { Flow } from '../flow/flow.js';
import type { FlowStore } from '../record/flow-store.js';
import type { SessionStore } from '../record/store/open-store.js';
import type { ClientFront } from './client-front.js';
import type { Connectivity } from './connectivity.js';
import type { OriginSide } from './origin-side.js';
import type { ProxyHandle } from './proxy-handle.js';

/** The parts startProxy has built by the time the handlers need their shared runtime. */
export interface RuntimeParts {
  readonly config: ProxyConfig;
  readonly ca: CertificateAuthority;
  readonly certs: CertCache;
  readonly reach: Connectivity;
  readonly origins: OriginSide;
  readonly store: FlowStore;
  /** The `--store` file, when there is one. */
  readonly session?: SessionStore | undefined;
  readonly proxy: ProxyHandle;
  readonly front: ClientFront;
}

/** Builds the runtime every connection and request handler reads (inbound/runtime.ts). */
export function buildRuntime(parts: RuntimeParts): ProxyRuntime {
  const { config, reach, origins, store, session, proxy, front } = parts;
  const hooks = proxy.pipeline;
  let flowId = 0;
  let connectionCount = 0;
  const connectionIds = new WeakMap<object, number>();
  return {
    config,
    ca: parts.ca,
    certs: parts.certs,
    dialer: reach.dialer,
    auth: reach.auth,
    pinned: reach.pinned,
    sniffer: origins.sniffer,
    hooks,
    exchangeDeps: {
      upstream: origins.upstream,
      hooks,
      timeoutMs: config.upstreamTimeout,
      maxBodyBuffer: config.maxBodyBuffer,
      recordBodyLimit: recordBodyLimit(config, session !== undefined),
      viaMarker: config.via ? newViaMarker() : undefined,
      onFlowEnd: (flow, record) => {
        // Neither can throw: listeners and waitForFlow predicates are guarded (proxy-handle.ts, flow-store.ts).
        proxy.emit('flow', record, flow);
        store.add(flow);
        // Only queues the flow: the store writes batches later, off the request path (docs/store.md).
        if (session) appendToStore(session, flow, record);
        if (hooks.has('onFlowEnd')) void hooks.flowEnd(flow);
      },
      onMessage: () => (proxy.listenerCount('message') > 0 ? (flow, message) => proxy.emit('message', message, flow) : undefined),
    },
    decide: createHostPolicy(config),
    isSelf: (target) => front.ownsTarget(target),
    sessions: front.sessions,
    serveHttp: front.serveHttp,
    track: front.track,
    emit: proxy.emit.bind(proxy),
    nextId: () => ++flowId,
    connectionId: (socket) => {
      let id = connectionIds.get(socket);
      if (id === undefined) {
        id = ++connectionCount;
        connectionIds.set(socket, id);
      }
      return id;
    },
  };
}

/** Body bytes each flow records: the in-memory limit, raised to the store's when flows also go to a store. */
function recordBodyLimit(config: ProxyConfig, storing: boolean): number {
  const memory = config.keep > 0 ? config.recordBodyLimit : 0;
  return storing ? Math.max(memory, config.storeBodyLimit) : memory;
}

function appendToStore(session: SessionStore, flow: Flow, record: FlowRecord): void {
  try {
    session.append(flow, record);
  } catch {
    // Only a closed store throws here (a flow ending during close); that flow cannot be kept.
  }
}
