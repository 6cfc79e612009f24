// The soak's mixed traffic: each call of a scenario is one bounded piece of client work through
// the proxy, against the local origins only (names under .test resolve to 127.0.0.1 in the proxy).
import { once } from 'node:events';
import http2 from 'node:http2';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { ProxyAgent, request } from 'undici';
import WebSocket from 'ws';

/** What the traffic needs to know. */
export interface TrafficTarget {
  readonly proxyPort: number;
  readonly caPem: string;
  readonly h1Port: number;
  readonly h2Port: number;
  /** A local port whose listener closes every connection at once (a 502). */
  readonly deadPort: number;
}

/** Counts per scenario: runs, and failures that were not the expected kind. */
export type Tally = Record<string, { runs: number; unexpected: number }>;

const MIB = 2 ** 20;

/** Runs scenarios picked in a fixed rotation until `deadline` (ms since epoch); `workers` at a time. */
export class Traffic {
  readonly tally: Tally = {};
  readonly #t: TrafficTarget;
  readonly #keepAlive: ProxyAgent;
  readonly #proxyUrl: string;
  #hostCounter = 0;
  lastError = '';

  constructor(target: TrafficTarget) {
    this.#t = target;
    this.#proxyUrl = `http://127.0.0.1:${target.proxyPort}`;
    this.#keepAlive = new ProxyAgent({ uri: this.#proxyUrl, requestTls: { ca: target.caPem }, connections: 8 });
  }

  /** The scenarios, by name; each resolves when its exchange is over (a failure counts as unexpected). */
  readonly scenarios: ReadonlyArray<readonly [string, () => Promise<void>]> = [
    ['keep-alive 1k', () => this.#get(this.#keepAlive, `https://localhost:${this.#t.h1Port}/1k`, 200)],
    ['keep-alive 1k', () => this.#get(this.#keepAlive, `https://localhost:${this.#t.h1Port}/1k`, 200)],
    ['new connection', () => this.#fresh(`https://localhost:${this.#t.h1Port}/1k`, 200)],
    // A name never used before, every time: minting, the leaf cache's LRU and per-origin pools aging out.
    ['new host', () => this.#fresh(`https://h${++this.#hostCounter}.test:${this.#t.h1Port}/1k`, 200)],
    ['large body 16 MiB', () => this.#get(this.#keepAlive, `https://localhost:${this.#t.h1Port}/bytes/${16 * MIB}`, 200)],
    ['upload 4 MiB', () => this.#upload()],
    ['websocket', () => this.#websocket()],
    ['sse', () => this.#get(this.#keepAlive, `https://localhost:${this.#t.h1Port}/sse`, 200)],
    ['http2', () => this.#http2()],
    ['plain http', () => this.#plain()],
    ['error: origin hangs up', () => this.#get(this.#keepAlive, `https://localhost:${this.#t.deadPort}/`, 502, true)],
    ['error: origin reset', () => this.#get(this.#keepAlive, `https://localhost:${this.#t.h1Port}/reset`, 200, true)],
  ];

  /** Runs `workers` loops of scenarios until `deadline`; bounded by time and by `maxRuns` in all. */
  async run(workers: number, deadline: number, maxRuns: number): Promise<void> {
    let next = 0;
    const loop = async (): Promise<void> => {
      while (Date.now() < deadline && next < maxRuns) {
        const entry = this.scenarios[next++ % this.scenarios.length];
        if (entry === undefined) return;
        const [name, scenario] = entry;
        const count = this.tally[name] ?? { runs: 0, unexpected: 0 };
        this.tally[name] = count;
        count.runs += 1;
        try {
          await withTimeout(scenario(), 30_000, name);
        } catch (error) {
          count.unexpected += 1;
          this.lastError = `${name}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
  }

  /** Closes the pooled client connections. */
  async close(): Promise<void> {
    await this.#keepAlive.close();
  }

  async #get(dispatcher: ProxyAgent, url: string, status: number, failureExpected = false): Promise<void> {
    try {
      const answer = await request(url, { dispatcher });
      await answer.body.dump({ limit: Number.POSITIVE_INFINITY });
      if (answer.statusCode !== status) throw new Error(`${url}: status ${answer.statusCode}`);
    } catch (error) {
      if (!failureExpected) throw error;
    }
  }

  async #fresh(url: string, status: number): Promise<void> {
    const agent = new ProxyAgent({ uri: this.#proxyUrl, requestTls: { ca: this.#t.caPem } });
    try {
      await this.#get(agent, url, status);
    } finally {
      await agent.close();
    }
  }

  async #upload(): Promise<void> {
    const body = Buffer.alloc(4 * MIB, 0x62);
    const answer = await request(`https://localhost:${this.#t.h1Port}/upload`, { dispatcher: this.#keepAlive, method: 'POST', body });
    const text = await answer.body.text();
    if (text !== String(body.length)) throw new Error(`upload: origin counted ${text}`);
  }

  async #websocket(): Promise<void> {
    const agent = new HttpsProxyAgent(this.#proxyUrl);
    const ws = new WebSocket(`wss://localhost:${this.#t.h1Port}/ws`, { agent, ca: this.#t.caPem, perMessageDeflate: false });
    try {
      await Promise.race([once(ws, 'open'), once(ws, 'error').then(([error]) => Promise.reject(error))]);
      for (let i = 0; i < 20; i += 1) {
        const echoed = once(ws, 'message');
        ws.send(`message ${i} ${'y'.repeat(200)}`);
        await echoed;
      }
      const closed = once(ws, 'close');
      ws.close(1000, 'done');
      await closed;
    } finally {
      ws.terminate();
      agent.destroy();
    }
  }

  async #http2(): Promise<void> {
    const connect = httpRequest({ host: '127.0.0.1', port: this.#t.proxyPort, method: 'CONNECT', path: `localhost:${this.#t.h2Port}` });
    connect.end();
    const [response, socket] = (await once(connect, 'connect')) as [{ statusCode?: number }, import('node:net').Socket];
    if (response.statusCode !== 200) {
      socket.destroy();
      throw new Error(`CONNECT answered ${response.statusCode}`);
    }
    const session = http2.connect(`https://localhost:${this.#t.h2Port}`, {
      createConnection: () => tlsConnect({ socket, ALPNProtocols: ['h2'], ca: this.#t.caPem, servername: 'localhost' }),
    });
    session.on('error', () => undefined);
    try {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const stream = session.request({ ':path': '/1k' });
          stream.resume();
          await once(stream, 'end');
        }),
      );
    } finally {
      session.close();
      socket.destroy();
    }
  }

  async #plain(): Promise<void> {
    // Plain HTTP in absolute form to the HTTP/2 origin's port would be TLS: use a name that fails instead,
    // exercising the plain-HTTP path and its 502 without any origin.
    const req = httpRequest({
      host: '127.0.0.1',
      port: this.#t.proxyPort,
      path: `http://plain.test:${this.#t.deadPort}/x`,
      headers: { host: `plain.test:${this.#t.deadPort}` },
    });
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    res.resume();
    await once(res, 'end');
    if (res.statusCode !== 502) throw new Error(`plain http: status ${res.statusCode}`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
