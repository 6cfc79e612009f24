// The fuzzer's seeds: valid first bytes of every protocol the proxy port speaks (HTTP/1.1 in
// absolute form, CONNECT, TLS ClientHello, SOCKS5, WebSocket, the HTTP/2 preface), and valid
// plaintext for inside an intercepted TLS session (HTTP/1.1, WebSocket, HTTP/2 frames).

/** Where a seed's bytes go: straight to the proxy port, or inside a TLS session it intercepts (with this ALPN). */
export type Channel = 'raw' | 'tls-http/1.1' | 'tls-h2';

/** One seed. */
export interface Seed {
  readonly name: string;
  readonly channel: Channel;
  readonly bytes: Buffer;
}

const HOST = 'fuzz.test';

function http(lines: string[], body = ''): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

/** A masked client WebSocket frame. */
function wsFrame(opcode: number, payload: Buffer): Buffer {
  const key = Buffer.of(1, 2, 3, 4);
  const masked = Buffer.from(payload.map((b, i) => b ^ (key[i & 3] as number)));
  const length =
    payload.length < 126 ? Buffer.of(0x80 | payload.length) : Buffer.of(0x80 | 126, payload.length >> 8, payload.length & 0xff);
  return Buffer.concat([Buffer.of(0x80 | opcode), length, key, masked]);
}

/** An HTTP/2 frame (RFC 9113 §4.1). */
function h2Frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

// HPACK (RFC 7541): indexed :method GET (2) / POST (3), :scheme https (7), :path / (4), then
// :authority as a literal with the indexed name 1, and a literal x-fuzz header.
function hpack(method: 'GET' | 'POST', path: string): Buffer {
  const literal = (name: string, value: string): Buffer =>
    Buffer.concat([Buffer.of(0x00, name.length), Buffer.from(name), Buffer.of(value.length), Buffer.from(value)]);
  return Buffer.concat([
    Buffer.of(method === 'GET' ? 0x82 : 0x83, 0x87),
    path === '/' ? Buffer.of(0x84) : Buffer.concat([Buffer.of(0x04, path.length), Buffer.from(path)]),
    Buffer.of(0x41, HOST.length),
    Buffer.from(HOST),
    literal('x-fuzz', 'yes'),
  ]);
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SETTINGS = h2Frame(0x4, 0, 0, Buffer.of(0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xff, 0xff));

function h2Exchange(): Buffer {
  return Buffer.concat([
    PREFACE,
    SETTINGS,
    h2Frame(0x1, 0x4 | 0x1, 1, hpack('GET', '/ok')),
    h2Frame(0x1, 0x4, 3, hpack('POST', '/upload')),
    h2Frame(0x0, 0x1, 3, Buffer.from('hello over h2')),
    h2Frame(0x8, 0, 0, Buffer.of(0, 1, 0, 0)),
    h2Frame(0x6, 0, 0, Buffer.alloc(8)),
  ]);
}

function socksConnect(auth: boolean, tail: Buffer): Buffer {
  const greeting = auth ? Buffer.of(5, 2, 0, 2) : Buffer.of(5, 1, 0);
  const userPass = auth ? Buffer.concat([Buffer.of(1, 4), Buffer.from('user'), Buffer.of(4), Buffer.from('pass')]) : Buffer.alloc(0);
  const request = Buffer.concat([Buffer.of(5, 1, 0, 3, HOST.length), Buffer.from(HOST), Buffer.of(1, 0xbb)]);
  return Buffer.concat([greeting, userPass, request, tail]);
}

const WS_UPGRADE = [
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
];

/** Every seed; `clientHello` is a real ClientHello for fuzz.test. */
export function seeds(clientHello: Buffer): Seed[] {
  const frames = Buffer.concat([wsFrame(0x1, Buffer.from('hello')), wsFrame(0x9, Buffer.from('ping')), wsFrame(0x8, Buffer.of(3, 0xe8))]);
  return [
    {
      name: 'http get',
      channel: 'raw',
      bytes: http([`GET http://${HOST}/a/b?c=d HTTP/1.1`, `Host: ${HOST}`, 'Accept: */*', 'Accept-Encoding: gzip, br', 'Cookie: a=b']),
    },
    {
      name: 'http post length',
      channel: 'raw',
      bytes: http(
        [`POST http://${HOST}/upload HTTP/1.1`, `Host: ${HOST}`, 'Content-Length: 11', 'Content-Type: text/plain'],
        'hello world',
      ),
    },
    {
      name: 'http post chunked',
      channel: 'raw',
      bytes: http(
        [`POST http://${HOST}/upload HTTP/1.1`, `Host: ${HOST}`, 'Transfer-Encoding: chunked', 'Expect: 100-continue'],
        '5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n',
      ),
    },
    {
      name: 'http pipelined',
      channel: 'raw',
      bytes: Buffer.concat([
        http([`GET http://${HOST}/1 HTTP/1.1`, `Host: ${HOST}`]),
        http([`GET http://${HOST}/2 HTTP/1.0`, `Host: ${HOST}`]),
      ]),
    },
    { name: 'landing', channel: 'raw', bytes: http(['GET / HTTP/1.1', 'Host: mitm.it']) },
    {
      name: 'connect + http',
      channel: 'raw',
      bytes: Buffer.concat([
        http([`CONNECT ${HOST}:443 HTTP/1.1`, `Host: ${HOST}:443`, 'Proxy-Authorization: Basic dXNlcjpwYXNz']),
        http(['GET /ok HTTP/1.1', `Host: ${HOST}`]),
      ]),
    },
    {
      name: 'connect + client hello',
      channel: 'raw',
      bytes: Buffer.concat([http([`CONNECT ${HOST}:443 HTTP/1.1`, `Host: ${HOST}:443`]), clientHello]),
    },
    { name: 'socks5 + client hello', channel: 'raw', bytes: socksConnect(false, clientHello) },
    { name: 'socks5 auth', channel: 'raw', bytes: socksConnect(true, Buffer.alloc(0)) },
    {
      name: 'websocket upgrade',
      channel: 'raw',
      bytes: Buffer.concat([http([`GET http://${HOST}/ws HTTP/1.1`, `Host: ${HOST}`, ...WS_UPGRADE]), frames]),
    },
    { name: 'h2 preface (plain)', channel: 'raw', bytes: h2Exchange() },
    {
      name: 'h2c upgrade',
      channel: 'raw',
      bytes: http([
        `GET http://${HOST}/ HTTP/1.1`,
        `Host: ${HOST}`,
        'Connection: Upgrade, HTTP2-Settings',
        'Upgrade: h2c',
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
      ]),
    },
    { name: 'tls: http get', channel: 'tls-http/1.1', bytes: http(['GET /ok?x=1 HTTP/1.1', `Host: ${HOST}`, 'Accept-Encoding: gzip']) },
    {
      name: 'tls: http post chunked',
      channel: 'tls-http/1.1',
      bytes: http(['POST /upload HTTP/1.1', `Host: ${HOST}`, 'Transfer-Encoding: chunked'], '3\r\nabc\r\n0\r\n\r\n'),
    },
    {
      name: 'tls: websocket',
      channel: 'tls-http/1.1',
      bytes: Buffer.concat([http(['GET /ws HTTP/1.1', `Host: ${HOST}`, ...WS_UPGRADE]), frames]),
    },
    { name: 'tls: h2', channel: 'tls-h2', bytes: h2Exchange() },
  ];
}
