// One request to an HTTP/1.1 origin through a keep-alive agent, and the agents themselves: their
// connections come from the upstream's connector (upstream.ts), asynchronously, and are pooled
// by Node as usual.
import http from 'node:http';
import https from 'node:https';
import { finished, type Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { OriginCall, OriginRequest, OriginResponse } from './origin-call.js';
import { claimConnection } from './origin-connection.js';
import type { OriginTarget } from './origin-target.js';

type Callback = (error: Error | null, socket: Duplex) => void;

/** A request's options as the agent hands them to `createConnection`. */
export interface ConnectionArgs extends http.ClientRequestArgs {
  /**
   * The origin (host:port) the request is for, when the connection goes elsewhere (an upstream
   * proxy taking absolute-form requests): failures name it. Node passes unknown options through.
   */
  readonly forOrigin?: string;
}

/** Opens a connection for the agent; `options` are the request's (host, port, servername, forOrigin). */
export type OpenConnection = (options: ConnectionArgs) => Promise<Duplex>;

/**
 * Hands an asynchronously opened connection to the agent: returning undefined tells it to wait
 * for the callback. A failure goes to the request, whose 'error' handler classifies it.
 */
function deliver(opening: Promise<Duplex>, callback: Callback | undefined): undefined {
  opening.then(
    (socket) => callback?.(null, socket),
    // The agent ignores the socket argument when there is an error.
    (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error)), undefined as unknown as Duplex),
  );
  return undefined;
}

/** A keep-alive http.Agent whose connections come from `open`. */
export class PlainOriginAgent extends http.Agent {
  readonly #open: OpenConnection;

  constructor(pool: http.AgentOptions, open: OpenConnection) {
    super(pool);
    this.#open = open;
  }

  override createConnection(options: http.ClientRequestArgs, callback?: Callback): Duplex | null | undefined {
    return deliver(this.#open(options), callback);
  }
}

/** The same for TLS origins: an https.Agent, so that its pool keys include the SNI name. */
export class TlsOriginAgent extends https.Agent {
  readonly #open: (options: https.RequestOptions) => Promise<Duplex>;

  constructor(pool: https.AgentOptions, open: (options: https.RequestOptions) => Promise<Duplex>) {
    super(pool);
    this.#open = open;
  }

  override createConnection(options: https.RequestOptions, callback?: Callback): Duplex | null | undefined {
    return deliver(this.#open(options), callback);
  }
}

/**
 * Sends `request` through `agent` (HTTP/1.1) to `origin`, the server it connects to; `forOrigin`
 * names the request's own origin when that is another (see ConnectionArgs). The response body is
 * the IncomingMessage itself.
 */
export function h1Call(agent: http.Agent, origin: OriginTarget, request: OriginRequest, forOrigin?: string): OriginCall {
  const common: ConnectionArgs = {
    host: origin.host,
    port: origin.port,
    method: request.method,
    path: request.path,
    headers: request.headers,
    setHost: false,
    agent,
    ...(forOrigin === undefined ? {} : { forOrigin }),
  };
  // Explicit servername, '' included: otherwise the agent derives SNI from the Host header, and
  // the CONNECT target, not a client-written header, decides whom we verify.
  const req = origin.secure ? https.request({ ...common, servername: origin.servername }) : http.request(common);
  const response = new Promise<OriginResponse>((resolve, reject) => {
    req.on('error', reject);
    req.once('socket', (socket: Socket) => {
      // Our connector's sockets come connected (and secured): claimed at once, new or pooled.
      const note = (): void => request.onConnection(claimConnection(socket, socket, origin.port));
      if (socket.remoteAddress) note();
      else socket.once('connect', note);
    });
    // Every 1xx head but 101; 100 Continue is this hop's own (Node answered the client's Expect).
    req.on('information', (info: http.InformationEvent) => {
      if (info.statusCode !== 100) request.onInterim({ status: info.statusCode, rawHeaders: info.rawHeaders });
    });
    req.once('response', (res: http.IncomingMessage) => {
      resolve({
        status: res.statusCode ?? 502,
        statusMessage: res.statusMessage,
        rawHeaders: res.rawHeaders,
        httpVersion: res.httpVersion,
        body: res,
        trailers: () => res.rawTrailers,
        headOnly: false,
      });
    });
  });
  response.catch(() => undefined);
  const { body } = request;
  if (body.kind === 'bytes') {
    addTrailers(req, request.trailers());
    req.end(body.data);
  } else {
    // Not pipe's own end(): the client's trailers are known only once its body has ended, and
    // must be queued before our end() (Node sends them with the last chunk, chunked framing only).
    // finished(), not 'end': a body without bytes may have ended before it got here.
    body.stream.pipe(req, { end: false });
    // Unpiped before its end: the exchange let go of an upload the origin answered early
    // (client-message.ts endOnceAnswered), and drains the rest to nowhere. Ending the request at that
    // end would hand its connection back to the pool with the origin still owed the rest of the body.
    let cut = false;
    req.once('unpipe', () => {
      cut = !body.stream.readableEnded;
    });
    finished(body.stream, { writable: false }, (error) => {
      // A broken upload is not ended cleanly: the exchange tears the request down with the client.
      if (error) return;
      if (cut) {
        req.destroy();
        return;
      }
      addTrailers(req, request.trailers());
      req.end();
    });
  }
  return { response, destroy: (error) => req.destroy(error) };
}

function addTrailers(req: http.ClientRequest, raw: readonly string[]): void {
  if (raw.length === 0) return;
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  req.addTrailers(pairs);
}
