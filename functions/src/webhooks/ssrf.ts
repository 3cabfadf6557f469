/**
 * SSRF guard for webhook URLs. A URL is accepted only when its scheme is https and every address
 * its host resolves to is publicly routable: no private, loopback, link-local, CGNAT, multicast,
 * unspecified, reserved, documentation or cloud-metadata address, in IPv4 or IPv6 (IPv4-mapped,
 * IPv4-compatible, NAT64 and 6to4 forms are judged by the IPv4 address they carry). The check
 * runs at registration and again at delivery, where the connection itself is pinned to the
 * checked address (see `guardedLookup`), so a DNS answer cannot change between check and use.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { AppError } from '../errors';

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'metadata'
  | 'invalid';

/** Host names that reach instance metadata or the machine itself whatever DNS says. */
const BLOCKED_NAMES = [
  /^metadata\.google\.internal$/,
  /^metadata(\.goog)?$/,
  /(^|\.)localhost$/,
  /(^|\.)internal$/,
  /(^|\.)local$/,
];

export class WebhookUrlError extends AppError {
  override readonly name = 'WebhookUrlError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(400, 'webhook_url_forbidden', message, { reason });
  }
}

/**
 * An IPv4 address in any form `inet_aton` accepts (`127.1`, `0x7f.1`, `0177.0.0.1`,
 * `2130706433`), as a 32-bit number; undefined when it is not one.
 */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length === 0 || parts.length > 4 || parts.some((p) => p === '')) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return undefined;
    if (!Number.isFinite(value)) return undefined;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255)) return undefined;
  const lastBytes = 4 - values.length;
  if (last >= 256 ** lastBytes) return undefined;
  let result = 0;
  for (const v of values) result = result * 256 + v;
  return result * 256 ** lastBytes + last;
}

/** An IPv6 address as eight 16-bit groups; undefined when it is not one. */
export function parseIPv6(text: string): number[] | undefined {
  let input = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = input.indexOf('%');
  if (zone !== -1) input = input.slice(0, zone);
  if (isIP(input) !== 6) return undefined;
  const lastColon = input.lastIndexOf(':');
  const lastPart = input.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    // A dotted IPv4 tail becomes two hex groups.
    const v4 = parseIPv4(lastPart);
    if (v4 === undefined) return undefined;
    const hi = Math.floor(v4 / 65536).toString(16);
    const lo = (v4 % 65536).toString(16);
    input = `${input.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = input.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = toGroups(halves[0] ?? '');
  const rest = halves.length === 2 ? toGroups(halves[1] ?? '') : [];
  const fill = 8 - head.length - rest.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  if (groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  return groups;
}

function inV4(address: number, base: string, bits: number): boolean {
  const start = parseIPv4(base) ?? 0;
  const size = 2 ** (32 - bits);
  return address >= start && address < start + size;
}

export function classifyIPv4(address: number): AddressClass {
  if (address === 0xa9fea9fe) return 'metadata'; // 169.254.169.254 (GCP, AWS, Azure)
  if (address === 0xffffffff) return 'broadcast';
  if (inV4(address, '0.0.0.0', 8)) return 'unspecified';
  if (inV4(address, '127.0.0.0', 8)) return 'loopback';
  if (
    inV4(address, '10.0.0.0', 8) ||
    inV4(address, '172.16.0.0', 12) ||
    inV4(address, '192.168.0.0', 16)
  )
    return 'private';
  if (inV4(address, '169.254.0.0', 16)) return 'link_local';
  if (inV4(address, '100.64.0.0', 10)) return 'cgnat';
  if (inV4(address, '224.0.0.0', 4)) return 'multicast';
  if (
    inV4(address, '192.0.2.0', 24) ||
    inV4(address, '198.51.100.0', 24) ||
    inV4(address, '203.0.113.0', 24)
  )
    return 'documentation';
  if (
    inV4(address, '192.0.0.0', 24) || // IETF protocol assignments
    inV4(address, '192.88.99.0', 24) || // 6to4 relay anycast
    inV4(address, '198.18.0.0', 15) || // benchmarking
    inV4(address, '240.0.0.0', 4)
  )
    return 'reserved';
  return 'public';
}

export function classifyIPv6(groups: readonly number[]): AddressClass {
  const g = (i: number) => groups[i] ?? 0;
  const embeddedV4 = (hi: number, lo: number) => g(hi) * 65536 + g(lo);
  const zeroUpTo = (n: number) => groups.slice(0, n).every((x) => x === 0);
  if (groups.every((x) => x === 0)) return 'unspecified';
  if (zeroUpTo(7) && g(7) === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), ::ffff:0:a.b.c.d (translated)
  if (zeroUpTo(5) && g(5) === 0xffff) return classifyIPv4(embeddedV4(6, 7));
  if (zeroUpTo(6)) return classifyIPv4(embeddedV4(6, 7));
  if (zeroUpTo(4) && g(4) === 0xffff && g(5) === 0) return classifyIPv4(embeddedV4(6, 7));
  // 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64) carry an IPv4 address in the last 32 bits.
  if (g(0) === 0x64 && g(1) === 0xff9b) return classifyIPv4(embeddedV4(6, 7));
  // 2002::/16 (6to4) carries one in bits 16-47.
  if (g(0) === 0x2002) return classifyIPv4(embeddedV4(1, 2));
  // fd00:ec2::254, the AWS IMDS IPv6 endpoint (inside fc00::/7 anyway).
  if (g(0) === 0xfd00 && g(1) === 0x0ec2 && g(7) === 0x254) return 'metadata';
  if ((g(0) & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((g(0) & 0xffc0) === 0xfe80) return 'link_local';
  if ((g(0) & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local
  if ((g(0) & 0xff00) === 0xff00) return 'multicast';
  if (g(0) === 0x2001 && g(1) === 0x0db8) return 'documentation';
  if (g(0) === 0x0100 && g(1) === 0 && g(2) === 0 && g(3) === 0) return 'reserved'; // discard
  if (g(0) === 0x2001 && g(1) < 0x0200) return 'reserved'; // 2001::/23 IETF (Teredo, ORCHID)
  if ((g(0) & 0xe000) !== 0x2000) return 'reserved'; // outside global unicast 2000::/3
  return 'public';
}

/** The class of an IP literal (either family, bracketed IPv6 too), or `invalid`. */
export function classifyAddress(address: string): AddressClass {
  const v6 = address.includes(':') ? parseIPv6(address) : undefined;
  if (v6) return classifyIPv6(v6);
  const v4 = parseIPv4(address);
  return v4 === undefined ? 'invalid' : classifyIPv4(v4);
}

export interface UrlPolicy {
  /** Local stack only: loopback destinations, and plain http to them, are allowed. */
  allowLoopback: boolean;
}

function allowed(cls: AddressClass, policy: UrlPolicy): boolean {
  return cls === 'public' || (cls === 'loopback' && policy.allowLoopback);
}

/** The URL's host as the WHATWG parser normalised it, and whether it is an IP literal. */
function hostOf(url: URL): { host: string; literal: AddressClass | undefined } {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const cls = classifyAddress(host);
  return { host, literal: cls === 'invalid' ? undefined : cls };
}

/**
 * The static part of the check: syntax, scheme, credentials, port, blocked names and IP
 * literals. Returns the parsed URL and, for a name, the host that still has to be resolved.
 */
export function checkUrlSyntax(
  raw: string,
  policy: UrlPolicy,
): { url: URL; resolve: string | undefined } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError('invalid_url', 'the webhook URL is not a valid URL');
  }
  if (raw.length > 2048) throw new WebhookUrlError('invalid_url', 'the webhook URL is too long');
  if (url.username !== '' || url.password !== '')
    throw new WebhookUrlError('credentials', 'the webhook URL must not carry credentials');
  const { host, literal } = hostOf(url);
  const loopbackHttp = url.protocol === 'http:' && policy.allowLoopback && literal === 'loopback';
  if (url.protocol !== 'https:' && !loopbackHttp)
    throw new WebhookUrlError('scheme', 'the webhook URL must use https');
  if (literal !== undefined) {
    if (!allowed(literal, policy))
      throw new WebhookUrlError(literal, 'the webhook URL points to a non-public address');
    return { url, resolve: undefined };
  }
  if (BLOCKED_NAMES.some((re) => re.test(host)))
    throw new WebhookUrlError('blocked_name', 'the webhook URL points to a non-public host');
  return { url, resolve: host };
}

export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, order: 'verbatim' }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses);
    });
  });

/** Every address a host resolves to must be allowed: one private answer refuses the host. */
export async function resolveAllowed(
  host: string,
  policy: UrlPolicy,
  resolver: Resolver = systemResolver,
): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  try {
    addresses = await resolver(host);
  } catch {
    throw new WebhookUrlError('unresolvable', 'the webhook host does not resolve');
  }
  if (addresses.length === 0)
    throw new WebhookUrlError('unresolvable', 'the webhook host does not resolve');
  for (const a of addresses) {
    const cls = classifyAddress(a.address);
    if (!allowed(cls, policy))
      throw new WebhookUrlError(cls, 'the webhook host resolves to a non-public address');
  }
  return addresses;
}

/** The whole check: syntax, scheme, names, and every resolved address. */
export async function checkWebhookUrl(
  raw: string,
  policy: UrlPolicy,
  resolver: Resolver = systemResolver,
): Promise<URL> {
  const { url, resolve } = checkUrlSyntax(raw, policy);
  if (resolve !== undefined) await resolveAllowed(resolve, policy, resolver);
  return url;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request`: the socket connects only to an address that was checked in
 * the same resolution, which closes the DNS-rebinding gap between check and connect.
 */
export function guardedLookup(policy: UrlPolicy, resolver: Resolver = systemResolver) {
  return (host: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolveAllowed(host, policy, resolver).then(
      (addresses) => {
        const first = addresses[0];
        if (options.all) callback(null, addresses);
        else if (first) callback(null, first.address, first.family);
      },
      (err: unknown) => {
        callback(err as NodeJS.ErrnoException, '', 0);
      },
    );
  };
}
