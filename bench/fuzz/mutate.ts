// Byte-level mutations for the fuzzer: each input is a seed with 1–4 of these applied, driven by a
// seeded PRNG so a run can be repeated (`--seed`).

/** A small deterministic PRNG (mulberry32). */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x0d, 0x0a, 0x3a, 0x20, 0x30, 0x39, 0x2f, 0x25, 0x05, 0x16, 0x01];
const NUMBERS = ['0', '-1', '4294967296', '99999999999999999999', '1e3', '0x10', '65536', ''];
const LARGEST_INPUT = 256 * 1024;

/** Applies 1–4 random mutations to `seed`; `others` are spliced from. Never longer than 256 KiB. */
export function mutate(seed: Buffer, others: readonly Buffer[], rng: Rng): Buffer {
  let out: Buffer = Buffer.from(seed);
  const count = 1 + rng.int(4);
  for (let i = 0; i < count; i += 1) out = mutateOnce(out, others, rng);
  return out.length > LARGEST_INPUT ? out.subarray(0, LARGEST_INPUT) : out;
}

function mutateOnce(input: Buffer, others: readonly Buffer[], rng: Rng): Buffer {
  if (input.length === 0) return Buffer.from(rng.pick(others));
  const at = rng.int(input.length);
  const span = 1 + rng.int(Math.min(32, input.length - at));
  switch (rng.int(9)) {
    case 0: {
      const out = Buffer.from(input);
      out[at] = (out[at] as number) ^ (1 << rng.int(8));
      return out;
    }
    case 1: {
      const out = Buffer.from(input);
      out[at] = rng.pick(INTERESTING);
      return out;
    }
    case 2:
      return Buffer.concat([input.subarray(0, at), input.subarray(at + span)]);
    case 3: {
      const piece = input.subarray(at, at + span);
      const times = 1 + rng.int(rng.next() < 0.1 ? 4096 : 8);
      return Buffer.concat([input.subarray(0, at), ...Array<Buffer>(times).fill(piece), input.subarray(at + span)]);
    }
    case 4: {
      const noise = Buffer.alloc(1 + rng.int(16));
      for (let i = 0; i < noise.length; i += 1) noise[i] = rng.int(256);
      return Buffer.concat([input.subarray(0, at), noise, input.subarray(at)]);
    }
    case 5: {
      const other = rng.pick(others);
      const from = rng.int(Math.max(1, other.length));
      return Buffer.concat([input.subarray(0, at), other.subarray(from, from + 1 + rng.int(64)), input.subarray(at)]);
    }
    case 6:
      return input.subarray(0, at);
    case 7: {
      // A decimal number in the text (a length, a port, a status) replaced by an extreme one.
      const text = input.toString('latin1');
      const numbers = [...text.matchAll(/\d+/g)];
      const match = numbers.length > 0 ? rng.pick(numbers) : undefined;
      if (match?.index === undefined) return input;
      return Buffer.concat([input.subarray(0, match.index), Buffer.from(rng.pick(NUMBERS)), input.subarray(match.index + match[0].length)]);
    }
    default: {
      // A 16- or 8-bit length field set to an edge value.
      const out = Buffer.from(input);
      if (at + 1 < out.length) out.writeUInt16BE(rng.pick([0, 1, 0x7fff, 0xffff, out.length & 0xffff]), at);
      return out;
    }
  }
}
