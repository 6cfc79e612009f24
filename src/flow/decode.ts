import { PassThrough, pipeline, type Readable, type Transform } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { MitmError } from '../errors.js';

// `maxOutputLength` bounds what one coding may expand to: a zip bomb (a few KiB of gzip that
// inflate to gigabytes) stops at the hook's buffer limit instead of exhausting memory.
type Decoder = (data: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;
type ZlibCall = (data: Buffer, options: zlib.ZlibOptions, callback: (error: Error | null, result: Buffer) => void) => void;

const gunzip: Decoder = promisify(zlib.gunzip as ZlibCall);
const inflate: Decoder = promisify(zlib.inflate as ZlibCall);
const inflateRaw: Decoder = promisify(zlib.inflateRaw as ZlibCall);
const brotli: Decoder = promisify(zlib.brotliDecompress as ZlibCall);
// zstd arrived in Node 22.15 / 23.8; on older versions a zstd body is reported, not guessed at.
const zstdDecompress = (zlib as { zstdDecompress?: ZlibCall }).zstdDecompress;

const DECODERS: Record<string, Decoder> = {
  identity: async (data) => data,
  gzip: gunzip,
  'x-gzip': gunzip,
  // "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2), but servers still send raw deflate.
  deflate: async (data, options) =>
    inflate(data, options).catch((error: unknown) => {
      if (isTooLarge(error)) throw error;
      return inflateRaw(data, options);
    }),
  br: brotli,
  ...(zstdDecompress ? { zstd: promisify(zstdDecompress) as Decoder } : {}),
};

/** True for zlib's "output would exceed maxOutputLength" failure. */
function isTooLarge(error: unknown): boolean {
  return error instanceof RangeError || (error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE';
}

/** True when every coding in a Content-Encoding value can be undone here. */
export function canDecode(contentEncoding: string | undefined): boolean {
  return codings(contentEncoding).every((coding) => coding in DECODERS);
}

/**
 * Undoes a Content-Encoding (`gzip`, `deflate`, `br`, `zstd` where Node supports it, or a
 * comma-separated chain of them, applied last-first). `what` names the body in error messages.
 * A body that decodes to more than `maxOutput` bytes throws `body_too_large`.
 */
export async function decodeBody(data: Buffer, contentEncoding: string | undefined, what: string, maxOutput = 2 ** 30): Promise<Buffer> {
  let out = data;
  for (const coding of codings(contentEncoding).reverse()) {
    const decoder = DECODERS[coding];
    if (!decoder) {
      const hint = coding === 'zstd' ? ` (zstd needs Node 22.15 or newer; this is ${process.version})` : '';
      throw new MitmError('body_undecodable', `cannot decode ${what}: unsupported content-encoding ${coding}${hint}`);
    }
    try {
      out = await decoder(out, { maxOutputLength: maxOutput });
    } catch (error) {
      if (isTooLarge(error)) {
        throw new MitmError(
          'body_too_large',
          `${what} decodes (${coding}) to more than the ${maxOutput} byte buffer limit (--max-body-buffer)`,
          { cause: error },
        );
      }
      throw new MitmError('body_undecodable', `cannot decode ${what} as ${coding}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return out;
}

const STREAM_DECODERS: Record<string, () => Transform> = {
  identity: () => new PassThrough(),
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/**
 * A decoded view of a streaming body, or undefined when a coding cannot be undone as a stream. A
 * body that does not decode (corrupt, truncated) ends the view with a `body_undecodable` error
 * naming `what`; an error of `source` itself (the origin broke off) reaches the view as it is.
 */
export function decodeStream(source: Readable, contentEncoding: string | undefined, what = 'the body'): Readable | undefined {
  const names = codings(contentEncoding).reverse();
  const steps = names.map((coding) => STREAM_DECODERS[coding]);
  if (steps.some((step) => step === undefined)) return undefined;
  const view = new PassThrough();
  const decoders = steps.map((step, i) => {
    const decoder = (step as () => Transform)();
    // Registered before pipeline()'s own listener, so the view carries the coded error. A decoder
    // that pipeline() destroys because another stream failed finds the view destroyed already.
    decoder.once('error', (error: Error) => {
      view.destroy(new MitmError('body_undecodable', `cannot decode ${what} as ${names[i] ?? ''}: ${error.message}`, { cause: error }));
    });
    return decoder;
  });
  // Every error ends up on `view`, where its reader sees it; nothing is left to do with it here.
  pipeline([source, ...decoders, view], () => undefined);
  return view;
}

function codings(contentEncoding: string | undefined): string[] {
  return (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '');
}
