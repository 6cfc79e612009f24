// The content codings of flow/decode.ts, synchronously: for recorded bodies, which are small
// (bounded by the record and store limits) and read where a stream would not fit (proxy.har() is a
// plain getter; the store decodes as it writes). Callers cap the output (maxOutputLength).
import zlib from 'node:zlib';

/** A synchronous decoder for one content coding. */
export type SyncDecoder = (data: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer;

const zstdSync = (zlib as { zstdDecompressSync?: SyncDecoder }).zstdDecompressSync;

/** Decoders by content coding (lower case); zstd only where this Node has it. */
export const SYNC_DECODERS: Readonly<Record<string, SyncDecoder>> = {
  gzip: (data, options) => zlib.gunzipSync(data, options),
  'x-gzip': (data, options) => zlib.gunzipSync(data, options),
  // "deflate" should be zlib-wrapped (RFC 9110 §8.4.1.2), but servers still send raw deflate.
  deflate: (data, options) => {
    try {
      return zlib.inflateSync(data, options);
    } catch {
      return zlib.inflateRawSync(data, options);
    }
  },
  br: (data, options) => zlib.brotliDecompressSync(data, options),
  ...(zstdSync ? { zstd: zstdSync } : {}),
};
