// Makes a Node 20 process honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY, which its built-in fetch and
// http/https clients ignore (Node only learnt NODE_USE_ENV_PROXY in v24). register.ts loads this
// module into programs started by `mitm run`; see docs/qa-harness.md for what it covers.
import http from 'node:http';
import https from 'node:https';
import { Agent, type AgentConnectOpts } from 'agent-base';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { Agent as UndiciAgent, ProxyAgent, setGlobalDispatcher, type Dispatcher } from 'undici';

/** The environment variables the preload reads. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** Which clients the preload routed through the proxy. */
export interface Installed {
  /** fetch() and the `undici` package (their shared global dispatcher). */
  readonly fetch: boolean;
  /** `http.globalAgent` and `https.globalAgent`. */
  readonly http: boolean;
}

/** True when HTTP_PROXY or HTTPS_PROXY (either case) names a proxy; otherwise the preload does nothing. */
export function proxyConfigured(env: ProxyEnv): boolean {
  return ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'].some((name) => (env[name] ?? '') !== '');
}

/**
 * Which clients the running Node already sends through the env proxy by itself. With
 * NODE_USE_ENV_PROXY=1, Node 24 does so for fetch and, from 24.5, for http/https; installing our
 * own (undici 6) dispatcher over Node 24's built-in undici 7 would only add a mismatch.
 */
export function nativeEnvProxy(nodeVersion: string, env: ProxyEnv): Installed {
  const [major = 0, minor = 0] = nodeVersion.replace(/^v/, '').split('.').map(Number);
  const enabled = env.NODE_USE_ENV_PROXY === '1';
  return {
    fetch: enabled && major >= 24,
    http: enabled && (major > 24 || (major === 24 && minor >= 5)),
  };
}

/**
 * An agent that asks the environment, per request, whether to go direct or through the proxy
 * (NO_PROXY is honoured by proxy-from-env, with curl's syntax), and hands the request to a
 * direct agent or to a CONNECT-tunnelling (https) or absolute-URI (http) proxy agent.
 */
class EnvProxyAgent extends Agent {
  readonly #secure: boolean;
  readonly #direct: http.Agent;
  readonly #viaProxy = new Map<string, http.Agent>();

  constructor(secure: boolean) {
    // Node's own global agents keep connections alive since v19; so do ours.
    super({ keepAlive: true });
    this.#secure = secure;
    // Set outright: agent-base would otherwise guess it from the call stack, and http.request
    // rejects an agent whose protocol differs from the URL's.
    this.protocol = secure ? 'https:' : 'http:';
    this.#direct = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  override connect(_req: http.ClientRequest, options: AgentConnectOpts): http.Agent {
    const host = options.host ?? 'localhost';
    const scheme = this.#secure ? 'https' : 'http';
    const authority = host.includes(':') ? `[${host}]` : host;
    const proxy = getProxyForUrl(`${scheme}://${authority}:${String(options.port ?? (this.#secure ? 443 : 80))}/`);
    if (proxy === '') return this.#direct;
    let agent = this.#viaProxy.get(proxy);
    if (agent === undefined) {
      agent = this.#secure ? new HttpsProxyAgent(proxy, { keepAlive: true }) : new HttpProxyAgent(proxy, { keepAlive: true });
      this.#viaProxy.set(proxy, agent);
    }
    return agent;
  }
}

/**
 * A dispatcher for fetch that picks direct or proxy per origin with the same NO_PROXY rules as the
 * http agents. (undici's EnvHttpProxyAgent would do, but it prints an "experimental" warning into
 * every program it is preloaded into.)
 */
function envDispatcher(): Dispatcher {
  const viaProxy = new Map<string, ProxyAgent>();
  return new UndiciAgent().compose((direct) => (options, handler) => {
    const proxy = getProxyForUrl(String(options.origin ?? ''));
    if (proxy === '') return direct(options, handler);
    let agent = viaProxy.get(proxy);
    if (agent === undefined) {
      agent = new ProxyAgent(proxy);
      viaProxy.set(proxy, agent);
    }
    return agent.dispatch(options, handler);
  });
}

/**
 * Routes fetch/undici and the default http/https agents through the proxy named in process.env,
 * unless Node already does. Routing is decided per request from process.env (undici and
 * proxy-from-env read it themselves), so NO_PROXY changes made later by the program still count.
 */
export function installEnvProxy(): Installed {
  if (!proxyConfigured(process.env)) return { fetch: false, http: false };
  const native = nativeEnvProxy(process.version, process.env);
  if (!native.fetch) {
    // The undici package stores its dispatcher under Symbol.for('undici.globalDispatcher.1'), the
    // same slot Node 20's built-in fetch reads, so this one call covers both.
    setGlobalDispatcher(envDispatcher());
  }
  if (!native.http) {
    // http.request() reads these at call time (http.globalAgent is an accessor, and https.request
    // looks up https.globalAgent on each call), so replacing them reaches every default-agent request.
    http.globalAgent = new EnvProxyAgent(false);
    https.globalAgent = new EnvProxyAgent(true);
  }
  return { fetch: !native.fetch, http: !native.http };
}
