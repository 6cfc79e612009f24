import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { isMitmError, MitmError } from '../errors.js';
import { describeError, endFlow } from '../exchange/flow-record.js';
import { runPhases } from '../exchange/phases.js';
import { Body } from '../flow/body.js';
import { FlowResponse, type Flow, type FlowClient, type ResponseInit } from '../flow/flow.js';
import { withoutRawHeader } from '../flow/header-map.js';
import { connectionOf, type InboundRequest } from '../exchange/client-message.js';
import type { H2Request, H2Response } from '../exchange/h2-client.js';
import { respondWithError, writeRawError } from '../exchange/error-response.js';
import { flowFor, type Exchange } from '../exchange/exchange.js';
import { stripHopByHop } from '../exchange/headers.js';
import { withVia } from '../exchange/via.js';
import { proxyAuthRequired } from '../inbound/connect.js';
import { PlainOriginAgent } from '../origin/h1-origin.js';
import { claimConnection, noteSecured } from '../origin/origin-connection.js';
import { h2FromRaw, rawFromH2 } from '../flow/h2-headers.js';
import type { OriginConnector } from '../origin/upstream.js';
import { refusalRecord, resolveRequest, type RefusalContext } from '../inbound/request-handler.js';
import type { ProxyRuntime } from '../inbound/runtime.js';
import { formatAuthority, LANDING_HOST } from '../net/target.js';
import { originOfUrl } from '../origin/origin-target.js';
import { classifyUpstreamError } from '../origin/upstream-error.js';
import { sendH2Response, sendPlainResponse, upgradeHead, withoutUpgrade, writeHead, type SendTally } from './ws-http.js';
import { relayWebSocket } from './ws-session.js';

/** What the upgrade handler needs besides the runtime. */
export interface UpgradeDeps {
  /** Opens verified origin connections as the pooled agents do (dialer, trust, --client-cert, --insecure). */
  readonly connector: OriginConnector;
  /** The proxy's close: abandons origin dials under way. */
  readonly closing: AbortSignal;
  /** Hands a socket back to the HTTP parser, `bytes` to be read first. */
  readonly reparse: (socket: Duplex, bytes: Buffer) => void;
}

/** The origin's answer to the upgrade request. */
interface Dialed {
  readonly response: FlowResponse;
  /** Set for a 101: the origin's connection, now speaking WebSocket. */
  readonly upgraded?: { readonly socket: Duplex; readonly head: Buffer; readonly extensions: string | undefined; readonly upgrade: string };
}

/**
 * The client's end of a WebSocket handshake: an HTTP/1.1 socket that gets the origin's 101, or an
 * HTTP/2 stream opened with extended CONNECT (RFC 8441) that gets `:status: 200`. Either way the
 * frames that follow are RFC 6455 frames on `duplex`.
 */
interface ClientSide {
  /** Where the frames go and come from; its 'close' ends the client's part of the flow. */
  readonly duplex: Duplex;
  /** Client bytes that arrived with the handshake. */
  readonly head: Buffer;
  /** Sends the accepted handshake; false when a hook made it unsendable (a 500 went instead). */
  accept(response: FlowResponse, upgrade: string): boolean;
  /** Sends a non-upgrade response (a refusal, or a hook's answer), counting body bytes and reporting a body that broke off. */
  refuse(response: FlowResponse, tally: SendTally): void;
  /** Answers with an error; returns the answer sent (undefined: none). */
  fail(failure: MitmError): ResponseInit | undefined;
}

/**
 * Returns the handler for the server's 'upgrade' event. `Upgrade: websocket` requests, on the proxy
 * port (absolute URI) or inside an intercepted tunnel, go through the onRequest hooks to the same
 * origin a plain request would, over a fresh connection; the origin's 101 goes back as it is, so
 * subprotocol and extensions are what the origin chose. Any other upgrade (h2c...) is served as a
 * plain request without its Upgrade, as before there was a handler.
 */
export function createUpgradeHandler(rt: ProxyRuntime, deps: UpgradeDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    if ((req.headers.upgrade ?? '').trim().toLowerCase() !== 'websocket') {
      deps.reparse(socket, Buffer.concat([withoutUpgrade(req), head]));
      return;
    }
    const raw = socket as Socket;
    raw.on('error', () => raw.destroy());
    // WebSockets stay idle for long stretches by design: the keep-alive timer no longer applies.
    raw.setTimeout(0);
    // ws:// and wss:// in the request line mean http:// and https:// (RFC 6455 §3).
    req.url = (req.url ?? '').replace(/^ws(s?):\/\//i, 'http$1://');
    const side: ClientSide = {
      duplex: socket,
      head,
      accept: (response, upgrade) => writeHead(socket, response, upgradeHead(upgrade, response.wireHeaders())),
      refuse: (response, tally) => {
        sendPlainResponse(socket, response, tally);
        readToEnd(raw, rt.config.idleTimeout);
      },
      fail: (failure) => {
        const sent = writeRawError(socket, failure);
        readToEnd(raw, rt.config.idleTimeout);
        return sent;
      },
    };
    const request: HandshakeRequest = {
      method: req.method ?? 'GET',
      rawHeaders:
        rt.exchangeDeps.viaMarker === undefined ? [...req.rawHeaders] : withVia(req.rawHeaders, req.httpVersion, rt.exchangeDeps.viaMarker),
      httpVersion: req.httpVersion,
      upgrade: req.headers.upgrade ?? 'websocket',
    };
    startHandshake(rt, deps, req, request, side, { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 });
  };
}

/**
 * Returns the handler for extended CONNECT streams of HTTP/2 clients (RFC 8441): `:protocol:
 * websocket` is resolved and hooked like an HTTP/1.1 upgrade, sent to the origin as one (with a
 * Sec-WebSocket-Key of ours, its Accept checked), and the origin's 101 becomes `:status: 200`.
 * Any other CONNECT on an HTTP/2 stream is refused with 405 (the tunnel is already a tunnel).
 */
export function createH2WebSocketHandler(
  rt: ProxyRuntime,
  deps: Pick<UpgradeDeps, 'connector' | 'closing'>,
): (req: H2Request, res: H2Response) => void {
  return (req, res) => {
    const stream = req.stream;
    stream.on('error', () => stream.destroy());
    if (req.headers[':protocol'] !== 'websocket') {
      res.statusCode = 405;
      res.end();
      return;
    }
    const key = randomBytes(16).toString('base64');
    // RFC 8441 §5: no Sec-WebSocket-Key on an HTTP/2 stream; the origin's HTTP/1.1 upgrade needs ours.
    const raw = withoutRawHeader(rawFromH2(req.rawHeaders), 'sec-websocket-key');
    const side: ClientSide = {
      duplex: stream,
      head: Buffer.alloc(0),
      accept: (response) => {
        const fields = withoutRawHeader(response.wireHeaders(), 'sec-websocket-accept');
        try {
          stream.respond({ ':status': 200, ...h2FromRaw(fields) });
          return true;
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          respondWithError(res, new MitmError('hook_failed', `the response head cannot be sent: ${reason}`, { cause: error }));
          return false;
        }
      },
      refuse: (response, tally) => sendH2Response(res, response, tally),
      fail: (failure) => respondWithError(res, failure),
    };
    const request: HandshakeRequest = {
      method: 'GET',
      rawHeaders: [...raw, 'Sec-WebSocket-Key', key],
      httpVersion: '2.0',
      upgrade: 'websocket',
      ownKey: true,
    };
    const session = stream.session;
    const socket = session?.socket;
    startHandshake(rt, deps, req, request, side, { address: socket?.remoteAddress ?? '', port: socket?.remotePort ?? 0 });
  };
}

// RFC 6455 §1.3: the GUID that Sec-WebSocket-Accept hashes with the key.
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}${WEBSOCKET_GUID}`).digest('base64');
}

/** The handshake request as the origin will get it (before the onRequest hooks). */
interface HandshakeRequest {
  readonly method: string;
  readonly rawHeaders: string[];
  readonly httpVersion: string;
  /** The Upgrade token to send to the origin. */
  readonly upgrade: string;
  /** The proxy made the Sec-WebSocket-Key, so it checks the origin's Sec-WebSocket-Accept. */
  readonly ownKey?: boolean;
}

/** Resolves the handshake like a plain request, checks --proxy-auth, then runs it. */
function startHandshake(
  rt: ProxyRuntime,
  deps: Pick<UpgradeDeps, 'connector' | 'closing'>,
  req: InboundRequest,
  request: HandshakeRequest,
  side: ClientSide,
  peer: FlowClient,
): void {
  const startedAt = performance.now();
  const connection = connectionOf(req);
  const session = rt.sessions.get(connection);
  const client: FlowClient = session?.client ?? peer;
  const begin = (who: FlowClient): void => {
    const id = rt.nextId();
    try {
      const resolved = resolveRequest(rt, req);
      if (resolved.origin.host === LANDING_HOST)
        throw new MitmError('bad_request', `${LANDING_HOST} does not accept WebSocket connections`);
      const exchange = { ...resolved, id, client: who, clientTls: session?.tls, connectionId: rt.connectionId(connection), startedAt };
      void runUpgrade(rt, deps, exchange, request, side);
    } catch (error) {
      refuse(rt, req, side, { id, client: who, startedAt }, isMitmError(error) ? error : new MitmError('bad_request', String(error)));
    }
  };
  // As for plain requests (request-handler.ts): inside a tunnel the CONNECT was authorised already.
  if (!rt.auth || session) {
    begin(client);
    return;
  }
  rt.auth.checkHeader(req.headers['proxy-authorization']).then(
    (user) => {
      if (user !== undefined) begin({ ...client, user });
      else refuse(rt, req, side, { id: rt.nextId(), client, startedAt }, proxyAuthRequired('WebSocket upgrade'));
    },
    (error: unknown) => refuse(rt, req, side, { id: rt.nextId(), client, startedAt }, new MitmError('bad_request', String(error))),
  );
}

/** Answers an upgrade the proxy will not forward with `failure`, and records it as a flow. */
function refuse(rt: ProxyRuntime, req: InboundRequest, side: ClientSide, at: RefusalContext, failure: MitmError): void {
  side.fail(failure);
  rt.emit('flow', refusalRecord(req, at, failure));
}

async function runUpgrade(
  rt: ProxyRuntime,
  deps: Pick<UpgradeDeps, 'connector' | 'closing'>,
  exchange: Exchange,
  req: HandshakeRequest,
  side: ClientSide,
): Promise<void> {
  const ex = rt.exchangeDeps;
  const socket = side.duplex;
  const flow = flowFor(exchange, req, new Body(undefined, { cap: 0, what: `the request body of ${req.method} ${exchange.url}` }));
  let status: number | undefined;
  let bytes = 0;
  // Why a refusal's body did not reach the client whole (the origin or the client broke off).
  let cause: string | undefined;
  // The flow ends when every connection it holds has closed: the client's, and the origin's once dialed.
  let open = 1;
  let ended = false;
  // The client left before its handshake was answered.
  let clientLeft = false;
  const closed = (): void => {
    open -= 1;
    // `ended` too: a client gone mid-handshake ends the flow, and an origin socket may still follow.
    if (open > 0 || ended) return;
    ended = true;
    // Until an answer went out, the status is that of the error the client is being sent, if any.
    endFlow(ex.onFlowEnd, flow, exchange, () => ({
      status: status ?? flow.error?.status,
      bytes,
      complete: cause === undefined && !clientLeft,
      cause,
    }));
  };
  socket.once('close', closed);

  const stopWatching = watchForLeaving(socket, () => {
    clientLeft = true;
    flow.clientClosed();
  });
  const outcome = await runPhases(ex.hooks, flow, {
    toOrigin: async () => {
      const dialed = await dial(rt, deps.connector, deps.closing, exchange, flow, socket, req.upgrade, req.ownKey === true);
      if (dialed.upgraded) {
        open += 1;
        dialed.upgraded.socket.once('close', closed);
      }
      return dialed;
    },
    abandon: (dialed) => dialed.upgraded?.socket.destroy(),
    // Nobody is left to answer: the flow ends incomplete, without an error of the proxy's.
    clientGone: () => clientLeft,
    fail: (failure) => {
      // The answer reads the client to its end: as itself, not through the watch.
      stopWatching();
      return side.fail(failure);
    },
  });
  stopWatching();
  if (!outcome) {
    // What is left of a connection whose client left (its write side, half-open) is closed too.
    if (clientLeft) socket.destroy();
    return;
  }
  const { response, reply: dialed } = outcome;
  const upgraded = dialed?.upgraded;
  if (upgraded && response === dialed?.response && response.status === 101) {
    const sent = side.accept(response, upgraded.upgrade);
    // A head a hook made unsendable was answered with a 500 instead.
    status = sent ? 101 : 500;
    if (!sent) {
      upgraded.socket.destroy();
      return;
    }
    relayWebSocket({
      flow,
      hooks: ex.hooks,
      client: socket,
      clientHead: side.head,
      origin: upgraded.socket,
      originHead: upgraded.head,
      extensions: upgraded.extensions,
      recordLimit: ex.recordBodyLimit,
      maxBuffer: ex.maxBodyBuffer,
      onMessage: ex.onMessage(),
      onBytes: (count) => {
        bytes += count;
      },
    });
    return;
  }
  // Refused (or a hook answered): a plain response, after which the connection closes, since the
  // client's next bytes may already be WebSocket frames.
  upgraded?.socket.destroy();
  status = response.status;
  side.refuse(response, {
    count: (count) => {
      bytes += count;
    },
    broke: (error) => {
      cause = `the response body broke off: ${describeError(error)}`;
    },
  });
}

/**
 * Tells `gone` when the client leaves before its handshake is answered, so that what holds the
 * flow (a breakpoint, a slow hook) can let go. Node leaves an upgraded socket unread, so its end
 * would go unseen until the relay reads it: this reads only to see the end, and whatever bytes
 * arrive stay buffered for the relay. Returns the function that stops watching.
 */
function watchForLeaving(client: Duplex, gone: () => void): () => void {
  const onReadable = (): void => {
    // read() with nothing buffered is what makes an ended stream emit 'end'.
    if (client.readableLength === 0) client.read();
  };
  client.on('readable', onReadable);
  client.once('end', gone);
  client.once('close', gone);
  return () => {
    client.off('readable', onReadable);
    client.off('end', gone);
    client.off('close', gone);
  };
}

/** Sends the upgrade request to the origin over a new connection, verified as pooled ones are. */
function dial(
  rt: ProxyRuntime,
  connector: OriginConnector,
  closing: AbortSignal,
  exchange: Exchange,
  flow: Flow,
  client: Duplex,
  upgrade: string,
  verifyAccept: boolean,
): Promise<Dialed> {
  const request = flow.request;
  const { origin, path } = request.retargeted ? originOfUrl(request.url) : exchange;
  const authority = formatAuthority(origin);
  const headers = [...request.wireHeaders(), 'Connection', 'Upgrade', 'Upgrade', upgrade];
  // Never a pooled connection: once upgraded it belongs to this WebSocket alone. Through the dialer,
  // so --upstream-proxy applies (as a CONNECT tunnel, which every proxy relays WebSockets over).
  const open = async (): Promise<Duplex> => {
    const socket = await connector.dial(origin, closing);
    if (!origin.secure) {
      flow.useOriginConnection(claimConnection(socket, socket, origin.port));
      return socket;
    }
    // Known before the handshake, so a flow whose TLS fails still names the origin it reached.
    if (socket.remoteAddress) flow.server = { address: socket.remoteAddress, port: socket.remotePort ?? origin.port };
    const tlsStart = Date.now();
    const secured = connector.secure(socket, { servername: origin.servername, host: origin.host });
    secured.once('secureConnect', () => {
      noteSecured(secured, socket, origin.servername, tlsStart);
      flow.useOriginConnection(claimConnection(secured, secured, origin.port));
    });
    return secured;
  };
  const agent = new PlainOriginAgent({ keepAlive: false }, open);
  const upstreamReq = http.request({ host: origin.host, port: origin.port, method: request.method, path, headers, setHost: false, agent });
  const what = `the response body of ${request.method} ${request.url}`;
  const ex = rt.exchangeDeps;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      upstreamReq.destroy(new MitmError('upstream_timeout', `${authority} did not answer within ${ex.timeoutMs} ms`));
    }, ex.timeoutMs);
    // A client that leaves during the handshake takes the half-open origin connection with it.
    const abandon = (): void => {
      upstreamReq.destroy();
    };
    client.once('close', abandon);
    const settle = (): void => {
      clearTimeout(timer);
      client.off('close', abandon);
    };
    upstreamReq.on('error', (error) => {
      settle();
      reject(classifyUpstreamError(error, authority));
    });
    // The dialer hands over a tunnelled socket paused (handshake-reader.ts), and the client's
    // 'data' listener does not resume a stream paused explicitly; its listeners are in place now.
    upstreamReq.once('socket', (socket: Socket) => socket.resume());
    upstreamReq.once('response', (res: IncomingMessage) => {
      settle();
      const length = res.headers['content-length'];
      const body = new Body(res, {
        cap: ex.maxBodyBuffer,
        what,
        declaredLength: length === undefined ? undefined : Number(length),
        recordLimit: ex.recordBodyLimit,
      });
      resolve({ response: originResponse(res, body) });
    });
    upstreamReq.once('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      settle();
      socket.on('error', () => socket.destroy());
      // Messages are small and go both ways: Nagle's algorithm would hold one behind the origin's
      // delayed ACK (the client's side has noDelay from the listener).
      socket.setNoDelay(true);
      // With a key of the proxy's own (RFC 8441 clients send none), the proxy is the one to check the answer.
      const key = request.headers['sec-websocket-key'];
      if (verifyAccept && res.headers['sec-websocket-accept'] !== acceptFor(Array.isArray(key) ? (key[0] ?? '') : (key ?? ''))) {
        socket.destroy();
        reject(new MitmError('upstream_reset', `${authority} answered the WebSocket handshake with a wrong Sec-WebSocket-Accept`));
        return;
      }
      rt.track(socket);
      const extensions = res.headers['sec-websocket-extensions'];
      resolve({
        response: originResponse(res, new Body(undefined, { cap: 0, what })),
        upgraded: { socket, head, extensions, upgrade: res.headers.upgrade ?? upgrade },
      });
    });
    upstreamReq.end();
  });
}

function originResponse(res: IncomingMessage, body: Body): FlowResponse {
  return new FlowResponse({
    status: res.statusCode ?? 502,
    statusMessage: res.statusMessage,
    rawHeaders: stripHopByHop(res.rawHeaders),
    httpVersion: res.httpVersion,
    body,
    synthetic: false,
  });
}

/**
 * After a refused handshake: nothing reads an upgraded socket, and it allows half-open
 * connections, so without reading on (the client's further bytes are discarded) its FIN would
 * never be seen and the answered, half-closed socket and its fd would linger (the fuzzer's leak;
 * the SOCKS5 refusal had the same bug). The timeout covers a client that never ends.
 */
function readToEnd(socket: Socket, idleMs: number): void {
  socket.setTimeout(idleMs, () => socket.destroy());
  socket.resume();
}
