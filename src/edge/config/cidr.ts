// IPv4/IPv6 CIDR matching for `ip` policy rules and the metrics allow-list, via node:net BlockList.
import { BlockList, isIP } from 'node:net';

function split(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText] = cidr.split('/');
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function isCidr(text: string): boolean {
  return split(text) !== undefined;
}

/** Remote addresses arrive as "::ffff:127.0.0.1" on dual-stack sockets; compare them as IPv4. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function cidrMatcher(cidrs: string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parts = split(cidr);
    if (parts) list.addSubnet(parts.address, parts.prefix, parts.family);
  }
  return (address) => {
    const normal = normaliseAddress(address);
    const version = isIP(normal);
    return version !== 0 && list.check(normal, version === 4 ? 'ipv4' : 'ipv6');
  };
}
