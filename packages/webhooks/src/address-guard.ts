import { BlockList, isIP } from "node:net";

/** A webhook endpoint that must not be called (SSRF guard, DESIGN §5). */
export class EndpointRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EndpointRefusedError";
  }
}

/** Address ranges a webhook may never reach (reference serverless.md §4.3), by name. */
const FORBIDDEN: readonly [string, string, number, "ipv4" | "ipv6"][] = [
  ["unspecified", "0.0.0.0", 8, "ipv4"],
  ["private", "10.0.0.0", 8, "ipv4"],
  ["CGNAT", "100.64.0.0", 10, "ipv4"],
  ["loopback", "127.0.0.0", 8, "ipv4"],
  ["link-local", "169.254.0.0", 16, "ipv4"],
  ["private", "172.16.0.0", 12, "ipv4"],
  ["reserved", "192.0.0.0", 24, "ipv4"],
  ["documentation", "192.0.2.0", 24, "ipv4"],
  ["private", "192.168.0.0", 16, "ipv4"],
  ["benchmarking", "198.18.0.0", 15, "ipv4"],
  ["documentation", "198.51.100.0", 24, "ipv4"],
  ["documentation", "203.0.113.0", 24, "ipv4"],
  ["multicast", "224.0.0.0", 4, "ipv4"],
  ["reserved", "240.0.0.0", 4, "ipv4"],
  ["unspecified", "::", 128, "ipv6"],
  ["loopback", "::1", 128, "ipv6"],
  ["discard", "100::", 64, "ipv6"],
  ["documentation", "2001:db8::", 32, "ipv6"],
  ["unique-local", "fc00::", 7, "ipv6"],
  ["link-local", "fe80::", 10, "ipv6"],
  ["multicast", "ff00::", 8, "ipv6"],
];

const lists = new Map<string, BlockList>();
for (const [name, network, prefix, family] of FORBIDDEN) {
  let list = lists.get(name);
  if (!list) {
    list = new BlockList();
    lists.set(name, list);
  }
  list.addSubnet(network, prefix, family);
}

/** An IPv6 address as its eight 16-bit groups (any textual form, IPv4-dotted tail included). */
function ipv6Groups(address: string): number[] {
  // The URL parser writes every IPv6 form canonically in hex (::169.254.169.254 → ::a9fe:a9fe).
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head = "", tail] = canonical.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const high = parse(head);
  const low = tail === undefined ? [] : parse(tail);
  return [...high, ...Array<number>(8 - high.length - low.length).fill(0), ...low];
}

const dotted = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The IPv4 address an IPv6 address carries, which is what a packet to it may reach: IPv4-compatible
 * (::a.b.c.d), IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64's well-known
 * prefix (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::). `"tunnel"` for forms whose target cannot be
 * judged from the address: Teredo (2001::/32) and local-use NAT64 (64:ff9b:1::/48). Null otherwise.
 */
function embeddedIpv4(address: string): string | "tunnel" | null {
  const g = ipv6Groups(address);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const last = dotted(g[6] ?? 0, g[7] ?? 0);
  // ::/96 minus :: and ::1, which are IPv6's own unspecified and loopback addresses.
  if (zeros(0, 6) && !(g[6] === 0 && (g[7] ?? 0) <= 1)) return last;
  if (zeros(0, 5) && g[5] === 0xffff) return last;
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return last;
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return last;
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "tunnel";
  if (g[0] === 0x2002) return dotted(g[1] ?? 0, g[2] ?? 0);
  if (g[0] === 0x2001 && g[1] === 0) return "tunnel";
  return null;
}

/** Why `address` (an IP literal) is forbidden, or null when it is a public unicast address. */
export function forbiddenRange(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  const v4 = family === 6 ? embeddedIpv4(address) : address;
  if (v4 === "tunnel") return "tunnelled (Teredo or local-use NAT64)";
  if (v4) {
    for (const [name, list] of lists) if (list.check(v4, "ipv4")) return name;
    return null;
  }
  for (const [name, list] of lists) if (list.check(address, "ipv6")) return name;
  return null;
}

export const isLoopback = (address: string) => forbiddenRange(address) === "loopback";

export interface GuardOptions {
  /** Production: only https. */
  requireHttps: boolean;
  /** The local runtime and tests: loopback endpoints (http or https) are allowed. */
  allowLoopback: boolean;
}

/** Resolves a host name to its addresses (dns.lookup with `all: true` in production). */
export type Resolver = (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;

/**
 * Checks an endpoint URL's form: scheme, no credentials, and, for an IP literal host, its range.
 * Decimal, octal or hex IPv4 forms (`http://2130706433/`) are normalised by the URL parser to
 * dotted form first, so they are judged as what they mean.
 */
export function checkEndpointUrl(raw: string, options: GuardOptions): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new EndpointRefusedError(`not a URL: ${raw}`, { cause: error });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new EndpointRefusedError(`${url.protocol} is not http(s)`);
  if (url.username || url.password) throw new EndpointRefusedError("credentials in the URL are not allowed");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const literal = isIP(host) !== 0;
  const loopback = literal ? isLoopback(host) : host === "localhost";
  if (url.protocol === "http:" && !(options.allowLoopback && loopback) && options.requireHttps)
    throw new EndpointRefusedError("only https endpoints are allowed");
  if (literal) {
    const range = forbiddenRange(host);
    if (range && !(options.allowLoopback && range === "loopback"))
      throw new EndpointRefusedError(`${host} is a ${range} address`);
  }
  return url;
}

/**
 * Resolves the host and checks every address it resolves to; returns the one to connect to, so
 * the request is pinned to the address that was checked (no DNS rebinding between check and
 * connect). Every address must pass: a name that resolves to one private address is refused.
 */
export async function resolvePinned(
  url: URL,
  resolver: Resolver,
  options: GuardOptions,
): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const family = isIP(host);
  const addresses = family !== 0 ? [{ address: host, family: family as 4 | 6 }] : await resolver(host);
  if (addresses.length === 0) throw new EndpointRefusedError(`${host} does not resolve`);
  for (const { address } of addresses) {
    const range = forbiddenRange(address);
    if (range && !(options.allowLoopback && range === "loopback"))
      throw new EndpointRefusedError(`${host} resolves to ${address}, a ${range} address`);
  }
  return addresses[0] as { address: string; family: 4 | 6 };
}
