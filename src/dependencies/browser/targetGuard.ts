import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { HostPort } from '../../config/allowHosts.js';
import { canonicalAddress, classifyAddress } from './addressPolicy.js';

/**
 * Which targets the shared browser may reach (issue 11, item 1: SSRF through
 * `pages`). A scraped page may reach public unicast addresses only (see
 * {@link classifyAddress}), never this service's own HTTP port (its admin
 * routes) on any host, and nothing else unless `BROWSER_ALLOW_HOSTS` lists it.
 *
 * The rule is enforced on the address actually connected to, for every
 * request of the page (redirects and subresources included), by the
 * forward proxy every browser context must use (targetProxy.ts): it
 * resolves each host once with {@link TargetGuard.vet}, refuses when any
 * resolved address is forbidden, and connects to exactly the vetted
 * address, so DNS rebinding has no second lookup to exploit. Chromium
 * itself resolves nothing while it uses a proxy. The synchronous
 * {@link TargetGuard.refusal} only refuses early what the URL alone shows.
 */

/** Resolves a host name to its addresses (every one of them). */
export type Resolver = (hostname: string) => Promise<string[]>;

/** Why a URL is refused: `invalid` input (`DEP_REJECTED`) or a `forbidden` target (`DEP_TARGET_FORBIDDEN`). */
export interface Refusal {
  kind: 'invalid' | 'forbidden';
  reason: string;
}

/** The outcome of vetting one `host:port`. */
export type Vetting = { allowed: true; address: string } | { allowed: false; reason: string };

/** What the browser actor checks targets against. */
export interface TargetGuard {
  /** The ports no page may reach, on any host, allow-listed or not. */
  readonly forbiddenPorts: readonly number[];
  /** Chromium flags that refuse those ports inside the browser too (defence in depth). */
  readonly chromiumArgs: readonly string[];
  /** Why `url` may not be loaded, as far as the URL alone shows (no DNS), or undefined. */
  refusal(url: string): Refusal | undefined;
  /**
   * Resolves `host` and decides whether `port` on it may be reached; when it
   * may, `address` is the one address to connect to.
   * @throws whatever the resolver throws (`ENOTFOUND`...), for the caller to report as unreachable.
   */
  vet(host: string, port: number): Promise<Vetting>;
}

/** Options of {@link createTargetGuard}. */
export interface TargetGuardOptions {
  /** The service's own port(s): refused on every host, even when allow-listed. */
  forbiddenPorts: readonly number[];
  /**
   * `BROWSER_ALLOW_HOSTS`: targets allowed whatever their address. An entry
   * matches the URL's host name, or an address it resolves to.
   * @default []
   */
  allowHosts?: readonly HostPort[];
  /**
   * Resolves names (tests inject one to play DNS rebinding).
   * @default every address of `dns.lookup`
   */
  resolve?: Resolver;
}

const WEB_PROTOCOLS = new Set(['http:', 'https:']);

/** Every address `dns.lookup` gives for `hostname`, as the system resolver orders them. */
const systemResolver: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** The port a URL connects to (its explicit port, else its scheme's default). */
function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

const bare = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/**
 * Creates the guard for the service listening on `forbiddenPorts`.
 * @throws RangeError when a port is not an integer in 1..65535 (0, "any free
 * port", cannot be guarded: pass the port the server is bound to).
 */
export function createTargetGuard(options: TargetGuardOptions): TargetGuard {
  for (const port of options.forbiddenPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new RangeError(`forbiddenPorts must hold ports in 1..65535 (the bound port, not 0), got ${port}`);
    }
  }
  const ports = [...new Set(options.forbiddenPorts)];
  const resolve = options.resolve ?? systemResolver;
  const allowHosts = (options.allowHosts ?? []).map(({ host, port }) => ({ host, port, address: isIP(bare(host)) ? canonicalAddress(host) : undefined }));
  const portMatches = (entry: { port?: number }, port: number) => entry.port === undefined || entry.port === port;
  const nameAllowed = (host: string, port: number) => allowHosts.some((e) => e.host === host && portMatches(e, port));
  const addressAllowed = (address: string, port: number) => {
    const canonical = canonicalAddress(address);
    return allowHosts.some((e) => e.address === canonical && portMatches(e, port));
  };
  /** Why `address` may not be reached on `port`, or undefined. */
  const addressRefusal = (address: string, port: number) => {
    if (addressAllowed(address, port)) return undefined;
    const verdict = classifyAddress(address);
    return verdict.allowed ? undefined : `${bare(address)} is a ${verdict.range} address (allow it with BROWSER_ALLOW_HOSTS)`;
  };
  const portRefusal = (port: number) => (ports.includes(port) ? `port ${port} is this service's own port (admin routes), refused on every host` : undefined);

  // `~NOTFOUND` fails resolution; Chromium matches a rule against `host:port` too.
  const rules = ports.map((port) => `MAP *:${port} ~NOTFOUND`).join(', ');
  return {
    forbiddenPorts: ports,
    chromiumArgs: rules === '' ? [] : [`--host-resolver-rules=${rules}`],
    refusal(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return { kind: 'invalid', reason: `not an absolute URL: ${JSON.stringify(raw)}` };
      }
      if (!WEB_PROTOCOLS.has(url.protocol)) return { kind: 'invalid', reason: `only http and https URLs may be loaded, got ${url.protocol}` };
      const port = portOf(url);
      const reason = portRefusal(port) ?? (isIP(bare(url.hostname)) && !nameAllowed(url.hostname, port) ? addressRefusal(url.hostname, port) : undefined);
      return reason === undefined ? undefined : { kind: 'forbidden', reason };
    },
    async vet(host, port) {
      const ownPort = portRefusal(port);
      if (ownPort) return { allowed: false, reason: ownPort };
      const literal = isIP(bare(host)) !== 0;
      const addresses = literal ? [bare(host)] : await resolve(host);
      if (addresses.length === 0) return { allowed: false, reason: `${host} resolves to no address` };
      if (!nameAllowed(host, port)) {
        for (const address of addresses) {
          const reason = addressRefusal(address, port);
          // One forbidden address refuses the host: which one a later connection would use is not ours to guess.
          if (reason) return { allowed: false, reason: literal ? reason : `${host} resolves to ${reason}` };
        }
      }
      return { allowed: true, address: addresses[0]! };
    },
  };
}
