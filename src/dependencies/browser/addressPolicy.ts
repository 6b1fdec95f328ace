import ipaddr from 'ipaddr.js';

/**
 * Which IP addresses a scraped page may reach: public unicast only. Classifies
 * a literal address and never connects anywhere.
 *
 * Ranges come from ipaddr.js (`range()`): everything it names other than
 * `unicast` is refused (loopback, RFC 1918 `private`, `carrierGradeNat`,
 * `linkLocal`, `uniqueLocal`, `multicast`, `unspecified`, `broadcast`,
 * `reserved`, documentation and benchmarking ranges, ...). IPv6 `unicast` is
 * further limited to global unicast (2000::/3).
 *
 * IPv6 forms that carry an IPv4 address are judged by what they reach:
 * IPv4-mapped (::ffff:0:0/96) and IPv4-translated (::ffff:0:0:0/96) are
 * refused outright, since no public DNS answer holds them; NAT64
 * (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32, server and client)
 * are allowed only when every embedded IPv4 address is itself public, so
 * that a NAT64 network can still reach public sites.
 */

/** The verdict on one address. */
export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

function ipv4From(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** The IPv4 addresses an IPv6 address reaches through, for the ranges that embed them. */
function embeddedIPv4(address: ipaddr.IPv6, range: string): ipaddr.IPv4[] | undefined {
  const p = address.parts;
  if (range === 'rfc6052' && address.match(NAT64_WELL_KNOWN)) return [ipv4From(p[6]!, p[7]!)];
  if (range === '6to4') return [ipv4From(p[1]!, p[2]!)];
  // Teredo: the server's address in clear, the client's with every bit inverted (RFC 4380 §4).
  if (range === 'teredo') return [ipv4From(p[2]!, p[3]!), ipv4From(~p[6]! & 0xffff, ~p[7]! & 0xffff)];
  return undefined;
}

function classifyIPv4(address: ipaddr.IPv4): AddressVerdict {
  const range = address.range();
  return range === 'unicast' ? { allowed: true } : { allowed: false, range };
}

function classifyIPv6(address: ipaddr.IPv6): AddressVerdict {
  const range = address.range();
  const embedded = embeddedIPv4(address, range);
  if (embedded) {
    const refused = embedded.map(classifyIPv4).find((v) => !v.allowed);
    return refused ? { allowed: false, range: `${range} of ${refused.range}` } : { allowed: true };
  }
  if (range !== 'unicast') return { allowed: false, range };
  return address.match(GLOBAL_UNICAST) ? { allowed: true } : { allowed: false, range: 'not global unicast' };
}

/**
 * Whether a page may connect to `address`, a literal IPv4 or IPv6 address
 * (brackets and a zone index are accepted). Only canonical forms are
 * expected: hosts are parsed as WHATWG URL does first, which turns `127.1`,
 * `0x7f.0.0.1` and `2130706433` into `127.0.0.1`.
 * @throws TypeError when `address` is not an IP address.
 */
export function classifyAddress(address: string): AddressVerdict {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(bare)) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  const parsed = ipaddr.parse(bare);
  return parsed.kind() === 'ipv4' ? classifyIPv4(parsed as ipaddr.IPv4) : classifyIPv6(parsed as ipaddr.IPv6);
}

/** The canonical text of an IP address (brackets dropped), for comparing two spellings. */
export function canonicalAddress(address: string): string {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return ipaddr.parse(bare).toString();
}
