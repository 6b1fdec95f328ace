import { ConfigError, readVar, type Env } from './parse.js';

/** A `host[:port]`: a host as WHATWG URL spells it (`127.0.0.1`, `[::1]`, `example.com`), and maybe a port. */
export interface HostPort {
  /** Lower-case, IPv4 in dotted quad (`127.1` → `127.0.0.1`), IPv6 in brackets and compressed. */
  host: string;
  /** Undefined: any port. */
  port?: number;
}

const HOST_PORT = /^(\[[^\]]*\]|[^:[\]/?#@\s]+)(?::(\d{1,5}))?$/;

/**
 * Parses `host[:port]` (`127.0.0.1:8080`, `[::1]`, `intranet.example`),
 * normalising the host as a browser does.
 * @returns undefined when the text is not such a pair, or the port is outside 1..65535.
 */
export function parseHostPort(text: string): HostPort | undefined {
  const m = HOST_PORT.exec(text.trim());
  if (!m) return undefined;
  let host: string;
  try {
    host = new URL(`http://${m[1]}/`).hostname;
  } catch {
    return undefined;
  }
  if (m[2] === undefined) return { host };
  const port = Number(m[2]);
  return port >= 1 && port <= 65_535 ? { host, port } : undefined;
}

/**
 * Reads a comma-separated list of `host[:port]` (`BROWSER_ALLOW_HOSTS`).
 * @throws ConfigError naming the variable and the first entry that is not such a pair.
 */
export function hostPortListVar(env: Env, name: string): HostPort[] {
  const raw = readVar(env, name);
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const parsed = parseHostPort(entry);
      if (!parsed) throw new ConfigError(name, `must be a comma-separated list of host[:port] (127.0.0.1:8080, [::1], intranet.example), got '${entry}'`);
      return parsed;
    });
}
