import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timingPhases } from '../../src/flow/timing-phases.js';

// Milestones in ms from an arbitrary epoch: the request head at 1000, handed to the origin side at 1002.
const BASE = { start: 1000, requestSent: 1002, responseStart: 1030, end: 1035 } as const;

test('a reused connection (or none): no blocked, connect or ssl; wait runs from the handover', () => {
  const expected = { send: 2, blocked: -1, connect: -1, ssl: -1, wait: 28, receive: 5 };
  assert.deepEqual(timingPhases({ ...BASE, connection: 'reused' }), expected);
  assert.deepEqual(timingPhases({ ...BASE }), expected);
});

test('a new connection opened for the request: blocked, connect (ssl inside it), then wait; the phases add up', () => {
  const phases = timingPhases({ ...BASE, connection: 'new', connectStart: 1004, connectEnd: 1006, tlsStart: 1006, tlsEnd: 1015 });
  assert.deepEqual(phases, { send: 2, blocked: 2, connect: 11, ssl: 9, wait: 15, receive: 5 });
  assert.equal(phases.send + phases.blocked + phases.connect + phases.wait + phases.receive, BASE.end - BASE.start);
});

test('a new connection opened ahead (during the CONNECT) cost the request nothing: 0, not -1', () => {
  const phases = timingPhases({ ...BASE, connection: 'new', connectStart: 990, connectEnd: 991, tlsStart: 991, tlsEnd: 998 });
  assert.deepEqual(phases, { send: 2, blocked: 0, connect: 0, ssl: 0, wait: 28, receive: 5 });
});

test("plain HTTP on a new connection: ssl -1; a hook's answer: all of it is send", () => {
  assert.equal(timingPhases({ ...BASE, connection: 'new', connectStart: 1002, connectEnd: 1003 }).ssl, -1);
  assert.deepEqual(timingPhases({ start: 1000, responseStart: 1004, end: 1006 }), {
    send: 4,
    blocked: -1,
    connect: -1,
    ssl: -1,
    wait: 0,
    receive: 2,
  });
});
