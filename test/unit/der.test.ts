import { test } from 'node:test';
import assert from 'node:assert/strict';
import { derTime, TAG, tlv } from '../../src/ca/der.js';

test('tlv writes short and long definite lengths (X.690 8.1.3) and the parts in order', () => {
  assert.deepEqual(tlv(TAG.sequence), Buffer.from('3000', 'hex'));
  assert.deepEqual(tlv(TAG.octetString, Buffer.from('01', 'hex'), Buffer.from('0203', 'hex')), Buffer.from('0403010203', 'hex'));
  const cases: Array<[number, string]> = [
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65535, '0482ffff'],
    [65536, '0483010000'],
  ];
  for (const [length, head] of cases) {
    const der = tlv(TAG.octetString, Buffer.alloc(length, 7));
    assert.equal(der.subarray(0, head.length / 2).toString('hex'), head, `length ${length}`);
    assert.equal(der.length, head.length / 2 + length);
    assert.equal(der.at(-1), length === 0 ? undefined : 7);
  }
  assert.throws(() => tlv(TAG.octetString, Buffer.alloc(0x1000000)), /over 16 MiB/);
});

test('derTime is UTCTime through 2049 and GeneralizedTime from 2050, to the second in UTC', () => {
  assert.deepEqual(derTime(new Date('2049-12-31T23:59:59.999Z')), Buffer.concat([Buffer.of(0x17, 13), Buffer.from('491231235959Z')]));
  assert.deepEqual(derTime(new Date('2050-01-01T00:00:00Z')), Buffer.concat([Buffer.of(0x18, 15), Buffer.from('20500101000000Z')]));
  assert.deepEqual(derTime(new Date('1999-06-05T04:03:02Z')), Buffer.concat([Buffer.of(0x17, 13), Buffer.from('990605040302Z')]));
});
