import type { IncomingMessage } from 'node:http';

/** Strips the IPv4-mapped IPv6 prefix, so `::ffff:10.0.0.1` and `10.0.0.1` are one client. */
function normalize(address: string): string {
  const a = address.trim();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * The client's IP address. With `trustedHops` 0 it is the socket's remote
 * address and `X-Forwarded-For` is ignored (any client could forge it).
 * Behind `trustedHops` reverse proxies, each of which appends the address it
 * saw, it is the entry `trustedHops` places from the right: the first hop no
 * trusted proxy vouches for. Entries a client prepended itself lie further
 * left and are never used.
 */
export function clientIp(req: IncomingMessage, trustedHops: number): string {
  const socketAddress = normalize(req.socket.remoteAddress ?? 'unknown');
  if (trustedHops <= 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : header;
  if (!raw) return socketAddress;
  const hops = raw
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  if (hops.length === 0) return socketAddress;
  // The socket is the nearest trusted proxy; the header holds what the proxies saw, nearest last.
  const index = Math.max(0, hops.length - trustedHops);
  return normalize(hops[index]!);
}
