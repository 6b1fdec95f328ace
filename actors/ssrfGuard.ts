/**
 * Which URLs the shared browser may load. A scraped page must never reach
 * this service's own HTTP port (its admin routes), neither directly nor
 * through a redirect, a script or a subresource.
 *
 * Playwright's request routing does not see redirect hops (microsoft/playwright
 * #3993, "as designed"), so the rule is enforced by Chromium itself: a
 * `--host-resolver-rules` entry makes every host on a forbidden port
 * unresolvable. A DNS name can point anywhere, 127.0.0.1 included, so the
 * rule covers every host on that port, not only local addresses; the URL a
 * caller passes is checked against the same rule before any browser work.
 */

/** What the browser actor checks URLs against. */
export interface TargetGuard {
  /** The ports no page may reach, on any host. */
  readonly forbiddenPorts: readonly number[];
  /** Chromium flags that enforce the rule inside the browser, redirects included. */
  readonly chromiumArgs: readonly string[];
  /** Why `url` may not be loaded, or undefined when it may. */
  refusal(url: string): string | undefined;
}

const WEB_PROTOCOLS = new Set(['http:', 'https:']);

/** The port a URL connects to (its explicit port, else its scheme's default). */
function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/**
 * Creates the guard for the service listening on `forbiddenPorts`.
 * @throws RangeError when a port is not an integer in 1..65535 (0, "any free
 * port", cannot be guarded: pass the port the server is bound to).
 */
export function createTargetGuard(forbiddenPorts: readonly number[]): TargetGuard {
  for (const port of forbiddenPorts) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new RangeError(`forbiddenPorts must hold ports in 1..65535 (the bound port, not 0), got ${port}`);
    }
  }
  const ports = [...new Set(forbiddenPorts)];
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
        return `not an absolute URL: ${JSON.stringify(raw)}`;
      }
      if (!WEB_PROTOCOLS.has(url.protocol)) return `only http and https URLs may be loaded, got ${url.protocol}`;
      const port = portOf(url);
      if (ports.includes(port)) return `port ${port} is this service's own port (admin routes), refused on every host`;
      return undefined;
    },
  };
}
