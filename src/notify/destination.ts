import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a notification must never reach unless private destinations are allowed: loopback,
 * private networks, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unspecified,
 * multicast, documentation and reserved ranges. Otherwise a tenant admin could point a webhook at
 * the server's own network (SSRF).
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (an IPv4 or IPv6 literal) is private, loopback, link-local or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (version !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4-mapped and NAT64 forms carry an IPv4 address that decides.
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1] ?? mappedHex(lower);
  if (embedded) return NON_PUBLIC.check(embedded, 'ipv4');
  return NON_PUBLIC.check(address, 'ipv6');
}

/** `::ffff:7f00:1` → `127.0.0.1`. */
function mappedHex(address: string): string | null {
  const match = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (!match) return null;
  const high = parseInt(match[1] as string, 16);
  const low = parseInt(match[2] as string, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** A destination refused before anything was sent. */
export class DestinationRefusedError extends Error {
  readonly code = 'DESTINATION_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'DestinationRefusedError';
  }
}

/** A URL hostname without the brackets of an IPv6 literal. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/**
 * Checks what can be checked without the network: an http(s) URL with no credentials, and not
 * an IP literal or name (`localhost`) of a non-public address. Returns the problem, or null.
 */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (allowPrivate) return null;
  const host = bareHost(url.hostname).toLowerCase();
  if (isIP(host) && isNonPublicAddress(host)) return `points at a non-public address (${host})`;
  if (host === 'localhost' || host.endsWith('.localhost')) return 'points at this machine (localhost)';
  return null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `http.request` that resolves the host and refuses it when any address is not
 * public. The check happens where the connection is made, so a name that resolves differently
 * between a check and the connection (DNS rebinding) cannot slip through.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, family: typeof options.family === 'number' ? options.family : 0 }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = allowPrivate ? [] : addresses.filter((entry) => isNonPublicAddress(entry.address));
      if (refused.length > 0) {
        return callback(new DestinationRefusedError(`${hostname} resolves to a non-public address (${refused[0]?.address})`), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new DestinationRefusedError(`${hostname} has no address`), []);
      callback(null, first.address, first.family);
    });
  };
}
