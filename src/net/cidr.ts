// Client address lists (--allow-client): CIDR blocks checked with Node's own BlockList.
import { BlockList, isIP } from 'node:net';
import { MitmError } from '../errors.js';

/** One parsed CIDR block: the network address, its prefix length and family. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** Parses `ADDR/PREFIX` or a bare address (a /32 or /128), or throws `config_invalid`. */
export function parseCidr(text: string): Cidr {
  const [address = '', prefixText, ...extra] = text.split('/');
  const version = isIP(address);
  const max = version === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (version === 0 || extra.length > 0 || !(prefix >= 0 && prefix <= max)) {
    throw new MitmError(
      'config_invalid',
      `${JSON.stringify(text)} is not an address or CIDR block (e.g. 192.168.1.0/24, 10.1.2.3, fd00::/8)`,
    );
  }
  return { address, prefix, family: version === 6 ? 'ipv6' : 'ipv4' };
}

/** A check of client addresses against CIDR blocks; IPv4-mapped IPv6 addresses are checked as IPv4. */
export function createAddressList(blocks: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const block of blocks.map(parseCidr)) list.addSubnet(block.address, block.prefix, block.family);
  return (address) => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const plain = mapped ?? address;
    const version = isIP(plain);
    return version !== 0 && list.check(plain, version === 6 ? 'ipv6' : 'ipv4');
  };
}

/** True for loopback listen addresses (127.0.0.0/8, ::1, localhost): only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(?:::ffff:)?127\.\d+\.\d+\.\d+$/i.test(host);
}
