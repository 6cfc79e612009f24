import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createTestPki, type TestPki } from '../helpers/pki.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

interface Message {
  readonly text: string;
}

// A unary method with JSON messages: grpc-js needs serializers, not protobuf, which keeps the
// test free of .proto files and code generation.
const json = {
  serialize: (value: Message): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): Message => JSON.parse(bytes.toString('utf8')) as Message,
};
const ECHO_SERVICE: grpc.ServiceDefinition = {
  say: {
    path: '/test.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

/** What a finished unary call left: its answer or error, and the status with its trailer metadata. */
interface Outcome {
  readonly error: grpc.ServiceError | null;
  readonly response: Message | undefined;
  readonly status: grpc.StatusObject;
}

// gRPC through the proxy: grpc-js as client (CONNECT through the proxy, trusting its CA) and as
// origin, so the call crosses both HTTP/2 hops and grpc-status arrives in trailers.
describe('proxy: gRPC', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let mitm: TestProxy;
  let server: grpc.Server;
  let client: grpc.Client;
  let originPort: number;

  /** One unary call of test.Echo/Say through the proxy. */
  const say = (text: string): Promise<Outcome> =>
    new Promise((resolve) => {
      let error: grpc.ServiceError | null = null;
      let response: Message | undefined;
      const call = client.makeUnaryRequest<Message, Message>('/test.Echo/Say', json.serialize, json.deserialize, { text }, (err, value) => {
        error = err;
        response = value;
      });
      // 'status' comes last, after the callback, with the trailer metadata.
      call.on('status', (status: grpc.StatusObject) => resolve({ error, response, status }));
    });

  before(async () => {
    pki = await createTestPki();
    mitm = await startTestProxy(pki);
    server = new grpc.Server();
    server.addService(ECHO_SERVICE, {
      say: (call: grpc.ServerUnaryCall<Message, Message>, callback: grpc.sendUnaryData<Message>) => {
        const trailer = new grpc.Metadata();
        trailer.set('x-custom-trailer', `for ${call.request.text}`);
        if (call.request.text === 'missing') {
          callback({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: trailer });
          return;
        }
        callback(null, { text: `echo: ${call.request.text}` }, trailer);
      },
    });
    const credentials = grpc.ServerCredentials.createSsl(null, [
      { cert_chain: Buffer.from(pki.origin.cert), private_key: Buffer.from(pki.origin.key) },
    ]);
    originPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', credentials, (error, port) => (error ? reject(error) : resolve(port)));
    });
    // The documented way to put grpc-js behind an HTTP CONNECT proxy is `grpc_proxy` (or
    // https_proxy); its channel options say the same per client, without touching this process's
    // environment: dial the proxy, CONNECT the real target, then TLS (verified with our CA) inside.
    client = new grpc.Client(`127.0.0.1:${mitm.port}`, grpc.credentials.createSsl(await readFile(mitm.caPath)), {
      'grpc.http_connect_target': `dns:localhost:${originPort}`,
      // The channel's target is the proxy here, so name the origin for :authority (as with grpc_proxy).
      'grpc.default_authority': `localhost:${originPort}`,
      'grpc.enable_http_proxy': 0,
    });
  });

  after(async () => {
    client?.close();
    server?.forceShutdown();
    await mitm?.close();
    await pki?.cleanup();
  });

  it('makes a unary call through the proxy; grpc-status and custom trailer metadata arrive', async () => {
    const outcome = await say('hi');
    assert.equal(outcome.error, null);
    assert.deepEqual(outcome.response, { text: 'echo: hi' });
    assert.equal(outcome.status.code, grpc.status.OK);
    assert.deepEqual(outcome.status.metadata.get('x-custom-trailer'), ['for hi']);
    const flow = await mitm.proxy.waitForFlow((f) => f.request.url === `https://localhost:${originPort}/test.Echo/Say`);
    assert.equal(flow.request.httpVersion, '2.0');
    assert.equal(flow.response?.httpVersion, '2.0');
    assert.equal(flow.response?.status, 200);
    assert.equal(flow.request.headers['content-type'], 'application/grpc');
  });

  it('passes an error status with its details and trailer metadata', async () => {
    const outcome = await say('missing');
    assert.equal(outcome.error?.code, grpc.status.NOT_FOUND);
    assert.equal(outcome.status.code, grpc.status.NOT_FOUND);
    assert.equal(outcome.status.details, 'no such thing');
    assert.deepEqual(outcome.status.metadata.get('x-custom-trailer'), ['for missing']);
  });

  it('lets a hook answer a call with an error status: a trailers-only response from the proxy', async () => {
    mitm.proxy.use({
      name: 'grpc-deny',
      async onRequest(flow) {
        // A gRPC body is length-prefixed messages; ours are JSON, so the text is visible in it.
        if (!(await flow.request.bytes()).includes('deny me')) return;
        flow.respond({
          status: 200,
          headers: { 'content-type': 'application/grpc', 'grpc-status': '7', 'grpc-message': 'denied by hook' },
        });
      },
    });
    const denied = await say('deny me');
    assert.equal(denied.status.code, grpc.status.PERMISSION_DENIED);
    assert.equal(denied.status.details, 'denied by hook');
    const mocked = await mitm.proxy.waitForFlow((f) => f.response?.synthetic === true && f.request.url.endsWith('/test.Echo/Say'));
    assert.equal(mocked.response?.headers['grpc-status'], '7');
    // Other calls still reach the origin.
    assert.deepEqual((await say('allowed')).response, { text: 'echo: allowed' });
  });
});
