import { isIP } from 'node:net';
import { MitmError } from '../errors.js';

/** Parses `[HOST:]PORT` (`9100`, `0.0.0.0:9100`, `[::1]:9100`); HOST defaults to 127.0.0.1. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2] ?? '127.0.0.1';
  const port = Number(match?.[3] ?? Number.NaN);
  const hostOk = match?.[1] !== undefined ? isIP(host) === 6 : /^[a-z0-9.-]+$/i.test(host);
  if (match === null || !hostOk || !(port >= 0 && port <= 65535)) {
    throw new MitmError('config_invalid', `${JSON.stringify(text)} is not a listen address: expected [HOST:]PORT`);
  }
  return { host, port };
}
