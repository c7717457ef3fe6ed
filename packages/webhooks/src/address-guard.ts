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
  ["NAT64", "64:ff9b::", 96, "ipv6"],
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

/** IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms are judged as the IPv4 address. */
function embeddedIpv4(address: string): string | null {
  const dotted = /^::(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted?.[1]) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] && hex[2]) {
    const high = Number.parseInt(hex[1], 16);
    const low = Number.parseInt(hex[2], 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return null;
}

/** Why `address` (an IP literal) is forbidden, or null when it is a public unicast address. */
export function forbiddenRange(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  const v4 = family === 6 ? embeddedIpv4(address) : address;
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
