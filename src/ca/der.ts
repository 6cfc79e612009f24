// DER (X.690) written straight into Buffers, for the fields a leaf certificate has of its own.
// Laid out with forge's ASN.1 objects and binary strings instead, they cost each mint ~17 KiB of
// V8 heap, which a burst of new hosts pays in young-generation collections (docs/performance.md,
// "Minting", round four).

/** ASN.1 tags (universal class, and the context-specific ones a certificate uses). */
export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  generalizedTime: 0x18,
  /** GeneralName's [2] dNSName (IA5String, implicit). */
  dnsName: 0x82,
  /** GeneralName's [7] iPAddress (OCTET STRING, implicit). */
  ipAddress: 0x87,
  /** TBSCertificate's [3] EXPLICIT extensions. */
  extensions: 0xa3,
} as const;

/** A tag-length-value with a definite length (X.690 8.1.3), its content `parts` in order. */
export function tlv(tag: number, ...parts: readonly Uint8Array[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  if (length >= 0x1000000) throw new RangeError(`DER content of ${length} bytes is over 16 MiB`);
  const lengthBytes = length < 0x80 ? 0 : length < 0x100 ? 1 : length < 0x10000 ? 2 : 3;
  // Under 4 KiB, allocUnsafe slices Node's shared pool: no ArrayBuffer of its own to sweep.
  const out = Buffer.allocUnsafe(2 + lengthBytes + length);
  out[0] = tag;
  if (lengthBytes === 0) out[1] = length;
  else {
    out[1] = 0x80 | lengthBytes;
    out.writeUIntBE(length, 2, lengthBytes);
  }
  let at = 2 + lengthBytes;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both to the second in UTC. */
export function derTime(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? tlv(TAG.utcTime, Buffer.from(digits.slice(2), 'latin1'))
    : tlv(TAG.generalizedTime, Buffer.from(digits, 'latin1'));
}
