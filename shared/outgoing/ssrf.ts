/**
 * Where outgoing webhooks may go. An endpoint URL comes from a customer, so
 * it must never reach into our network: no private, loopback, link-local,
 * carrier-grade NAT, unique-local, multicast, unspecified, reserved or cloud
 * metadata address, in any spelling (IPv4-mapped, IPv4-translated, NAT64
 * well-known prefix and 6to4 IPv6 forms are unwrapped to the IPv4 address
 * they carry). IPv6 follows the IANA special-purpose registry, and anything
 * outside global unicast (2000::/3) is reserved: that takes in the
 * deprecated IPv4-compatible form (::/96) and local-use NAT64
 * (64:ff9b:1::/48, an operator's own translator) whatever they carry. The check
 * runs at registration and again at every connection, on the addresses the
 * name resolves to then; the transport connects to the address it checked,
 * so a name that resolves differently the second time (DNS rebinding) gains
 * nothing.
 *
 * The network policy (`OUTGOING_WEBHOOKS_NETWORK`):
 * - `public` (the default, and AWS): https only, public addresses only, on
 *   port 443 or 1024–65535, so nobody can point us at another host's
 *   well-known services (mail, ssh…) to probe them.
 * - `local` (the local runtime): http or https, and loopback allowed too (any
 *   port but 0: the developer's own receivers).
 * - `loopback-only` (tests): loopback addresses only, and no name is ever
 *   looked up, so no request (not even a DNS query) can leave the machine.
 *
 * `localhost` and every `*.localhost` name mean 127.0.0.1 under every policy,
 * without a lookup (names under .localhost are loopback by definition, and a
 * resolver would otherwise send them out as DNS queries). Any other name's
 * lookup is bounded by the call budget: a name whose DNS never answers is
 * "does not resolve in time", never a request held past its deadline.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import * as z from 'zod';
import { parseEnv } from '../config';
import { callBudgetMs } from '../deadline';

export type NetworkPolicy = 'public' | 'local' | 'loopback-only';

const policySchema = z.object({ OUTGOING_WEBHOOKS_NETWORK: z.enum(['public', 'local', 'loopback-only']).default('public') });

/** Read on every use (cheap): tests and the local runtime set it before any delivery. */
export const networkPolicy = (): NetworkPolicy =>
  parseEnv(policySchema, { OUTGOING_WEBHOOKS_NETWORK: process.env.OUTGOING_WEBHOOKS_NETWORK || undefined }).OUTGOING_WEBHOOKS_NETWORK;

/** Why an address is not a public one; `undefined` for a public address. */
export type AddressClass =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade-nat'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'metadata';

const ranges: ReadonlyArray<readonly [AddressClass, 'ipv4' | 'ipv6', string, number]> = [
  // Cloud metadata services first, so they are named as such (169.254.169.254 is also link-local).
  ['metadata', 'ipv4', '169.254.169.254', 32],
  ['metadata', 'ipv4', '100.100.100.200', 32],
  ['metadata', 'ipv4', '192.0.0.192', 32],
  ['metadata', 'ipv6', 'fd00:ec2::254', 128],
  ['unspecified', 'ipv4', '0.0.0.0', 8],
  ['private', 'ipv4', '10.0.0.0', 8],
  ['carrier-grade-nat', 'ipv4', '100.64.0.0', 10],
  ['loopback', 'ipv4', '127.0.0.0', 8],
  ['link-local', 'ipv4', '169.254.0.0', 16],
  ['private', 'ipv4', '172.16.0.0', 12],
  ['reserved', 'ipv4', '192.0.0.0', 24],
  ['reserved', 'ipv4', '192.0.2.0', 24],
  ['reserved', 'ipv4', '192.88.99.0', 24],
  ['private', 'ipv4', '192.168.0.0', 16],
  ['reserved', 'ipv4', '198.18.0.0', 15],
  ['reserved', 'ipv4', '198.51.100.0', 24],
  ['reserved', 'ipv4', '203.0.113.0', 24],
  ['multicast', 'ipv4', '224.0.0.0', 4],
  ['reserved', 'ipv4', '240.0.0.0', 4],
  ['unspecified', 'ipv6', '::', 128],
  ['loopback', 'ipv6', '::1', 128],
  // Inside global unicast, per the IANA IPv6 special-purpose registry: the IETF protocol
  // assignments (Teredo, benchmarking, AMT, AS112, ORCHID, DETs…), and documentation twice.
  ['reserved', 'ipv6', '2001::', 23],
  ['reserved', 'ipv6', '2001:db8::', 32],
  ['reserved', 'ipv6', '3fff::', 20],
  ['unique-local', 'ipv6', 'fc00::', 7],
  ['link-local', 'ipv6', 'fe80::', 10],
  ['link-local', 'ipv6', 'fec0::', 10],
  ['multicast', 'ipv6', 'ff00::', 8],
];

const blockLists = new Map<AddressClass, BlockList>();
for (const [addressClass, family, network, prefix] of ranges) {
  let list = blockLists.get(addressClass);
  if (!list) blockLists.set(addressClass, (list = new BlockList()));
  list.addSubnet(network, prefix, family);
}
/** IPv6 global unicast: all IANA assigns for the public Internet (the rest is reserved, SRv6 SIDs and discard prefixes included). */
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/** The 16 bytes of an IPv6 address (any spelling, a dotted IPv4 tail included). */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

/** The IPv4 address an IPv6 address carries (mapped, translated, NAT64 well-known prefix, 6to4), if any. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  const isZero = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  const v4 = (from: number) => bytes.slice(from, from + 4).join('.');
  if (isZero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12); // ::ffff:a.b.c.d (mapped)
  if (isZero(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && isZero(10, 12)) return v4(12); // ::ffff:0:a.b.c.d (translated)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && isZero(4, 12)) return v4(12); // 64:ff9b::/96
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2); // 2002::/16
  return undefined;
}

/** What kind of non-public address `address` (an IP literal) is; `undefined` when it is public. */
export function classifyAddress(address: string): AddressClass | undefined {
  const family = isIP(address);
  if (family === 0) throw new TypeError('not an IP address');
  if (family === 6) {
    const carried = embeddedIpv4(address);
    if (carried !== undefined) return classifyAddress(carried);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const bare = address.split('%')[0] ?? '';
  for (const [addressClass, list] of blockLists) if (list.check(bare, type)) return addressClass;
  if (type === 'ipv6' && !globalUnicast.check(bare, 'ipv6')) return 'reserved';
  return undefined;
}

export class ForbiddenTargetError extends Error {
  constructor(readonly reason: string) {
    super(`The endpoint URL is not allowed: ${reason}`);
    this.name = 'ForbiddenTargetError';
  }
}

/** Whether the policy lets a connection go to `address`: `undefined`, or what the address is (`a private address`). */
export function addressRefusal(address: string, policy: NetworkPolicy = networkPolicy()): string | undefined {
  const addressClass = classifyAddress(address);
  if (policy === 'loopback-only') return addressClass === 'loopback' ? undefined : 'not a loopback address (only loopback targets are allowed here)';
  if (addressClass === undefined) return undefined;
  if (addressClass === 'loopback' && policy === 'local') return undefined;
  return `a ${addressClass} address`;
}

const MAX_URL_CHARS = 2048;
/** `localhost` or a name under it, a final dot (the absolute spelling) included. */
const isLocalhostName = (hostname: string) => /(^|\.)localhost\.?$/.test(hostname);
const LOCALHOST_ADDRESSES: LookupAddress[] = [{ address: '127.0.0.1', family: 4 }];
/** The longest a name's lookup may take (less near the invocation's end). */
const LOOKUP_LIMIT_MS = 3_000;

/** How names are resolved: `dns.lookup`'s `all: true` form (a parameter, so tests never need a resolver). */
export type HostLookup = (hostname: string, options: { all: true; verbatim: true }, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** The URL's host as an IP literal (brackets dropped), or `undefined` for a name. */
export function ipLiteralOf(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? undefined : host;
}

/**
 * What can be said of a URL without the network: scheme, credentials, size,
 * and an IP literal's class. Throws ForbiddenTargetError with the reason.
 */
export function checkUrlShape(raw: string, policy: NetworkPolicy = networkPolicy()): URL {
  if (raw.length > MAX_URL_CHARS) throw new ForbiddenTargetError(`longer than ${MAX_URL_CHARS} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ForbiddenTargetError('not a URL');
  }
  const schemes = policy === 'public' ? ['https:'] : ['https:', 'http:'];
  if (!schemes.includes(url.protocol)) throw new ForbiddenTargetError(policy === 'public' ? 'https is required' : 'the scheme must be http or https');
  if (url.username !== '' || url.password !== '') throw new ForbiddenTargetError('credentials in the URL are not allowed');
  if (url.hash !== '') throw new ForbiddenTargetError('a fragment is not allowed');
  // An empty port is the scheme's own (443, or 80 for local http).
  if (url.port === '0') throw new ForbiddenTargetError('port 0 is not allowed');
  if (policy === 'public' && url.port !== '' && url.port !== '443' && Number(url.port) < 1024) {
    throw new ForbiddenTargetError(`port ${url.port} is not allowed (443, or 1024 to 65535)`);
  }
  const literal = ipLiteralOf(url);
  if (literal !== undefined) {
    const refusal = addressRefusal(literal, policy);
    if (refusal) throw new ForbiddenTargetError(`${literal} is ${refusal}`);
  } else if (policy === 'loopback-only' && !isLocalhostName(url.hostname)) {
    throw new ForbiddenTargetError(`${url.hostname} is not looked up here (only loopback targets are allowed)`);
  }
  return url;
}

class LookupTimeoutError extends Error {
  readonly code = 'ETIMEOUT';
}

/** A name with no address (now, or in time): the endpoint's DNS failure rather than our refusal. */
class UnresolvedNameError extends ForbiddenTargetError {}

/** Every address `hostname` has now, within the call budget; a localhost name without any lookup. */
function addressesOf(hostname: string, lookup: HostLookup): Promise<LookupAddress[]> {
  if (isLocalhostName(hostname)) return Promise.resolve(LOCALHOST_ADDRESSES);
  const timeoutMs = callBudgetMs(LOOKUP_LIMIT_MS);
  return new Promise<LookupAddress[]>((resolve, reject) => {
    // The lookup itself cannot be cancelled; its late answer is ignored.
    const timer = setTimeout(() => reject(new LookupTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    lookup(hostname, { all: true, verbatim: true }, (error, found) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(found);
    });
  });
}

/** Resolves a name to every address it has now; each must pass the policy. */
async function resolveAllowed(hostname: string, policy: NetworkPolicy, lookup: HostLookup): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await addressesOf(hostname, lookup);
  } catch (error) {
    throw new UnresolvedNameError(`${hostname} does not resolve${error instanceof LookupTimeoutError ? ' in time' : ''}`);
  }
  if (addresses.length === 0) throw new UnresolvedNameError(`${hostname} does not resolve`);
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, policy);
    // One bad address refuses the name: an attacker's name may list a public address next to a private one.
    if (refusal) throw new ForbiddenTargetError(`${hostname} resolves to ${address}, ${refusal}`);
  }
  return addresses;
}

/** Registration: the URL's shape and every address its host resolves to now. */
export async function validateEndpointUrl(raw: string, policy: NetworkPolicy = networkPolicy(), lookup: HostLookup = dnsLookup): Promise<URL> {
  const url = checkUrlShape(raw, policy);
  if (ipLiteralOf(url) === undefined) await resolveAllowed(url.hostname, policy, lookup);
  return url;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request: resolves, checks every address against the
 * policy, and hands the socket only addresses it checked. (Node never calls
 * it for an IP literal: the transport checks those with `checkUrlShape`.)
 */
export function guardedLookup(policy: NetworkPolicy = networkPolicy(), lookup: HostLookup = dnsLookup) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    if (policy === 'loopback-only' && !isLocalhostName(hostname)) {
      callback(Object.assign(new ForbiddenTargetError(`${hostname} is not looked up here`), { code: 'ERR_FORBIDDEN_TARGET' }), []);
      return;
    }
    resolveAllowed(hostname, policy, lookup).then(
      (addresses) => {
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family);
      },
      (error: unknown) => {
        const code = error instanceof UnresolvedNameError ? 'ENOTFOUND' : 'ERR_FORBIDDEN_TARGET';
        callback(Object.assign(error instanceof Error ? error : new Error(String(error)), { code }), []);
      },
    );
  };
}
