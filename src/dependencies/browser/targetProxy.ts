import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseHostPort } from '../../config/allowHosts.js';
import type { TargetGuard } from './targetGuard.js';

/**
 * The forward proxy one browser context must use: the only way its pages
 * reach the network. For each request (plain HTTP in proxy form, or a
 * CONNECT tunnel for HTTPS and WebSockets) it asks the guard to vet the
 * target, which resolves the host once, and then connects to exactly the
 * vetted address: no second DNS lookup, so no rebinding window; redirects
 * and subresources come through here like the first navigation.
 *
 * Playwright gives Chromium `--proxy-bypass-list=<-loopback>` with a
 * context's proxy, so loopback targets are proxied (vetted) too. A refused
 * or failed request is answered by closing the connection (plain HTTP) or
 * a 403/502 to the CONNECT, which Chromium reports as a `net::ERR_*`
 * failure; what really happened is kept per target for the caller
 * ({@link TargetProxy.outcomeOf}).
 */

/** What happened to a target the page tried to reach, when it did not go through. */
export type TargetOutcome = { kind: 'refused'; reason: string } | { kind: 'failed'; reason: string };

/** One context's proxy. */
export interface TargetProxy {
  /** The proxy's URL (`http://127.0.0.1:<port>`), for the context's `proxy.server`. */
  readonly server: string;
  /** Why requests to `url`'s `host:port` did not go through, or undefined. */
  outcomeOf(url: string): TargetOutcome | undefined;
  /** Stops listening and cuts every connection, client and upstream. */
  close(): Promise<void>;
}

/** Headers that belong to one hop (RFC 9110 §7.6.1) or to the proxy, never forwarded. */
const HOP_HEADERS = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = new Set((String(headers.connection ?? '')).split(',').map((h) => h.trim().toLowerCase()));
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_HEADERS.has(name) && !named.has(name)));
}

/** `host:port` of a URL or a CONNECT authority, as both spell it. */
function targetKey(host: string, port: number): string {
  return `${host}:${port}`;
}

function keyOfUrl(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return targetKey(url.hostname, url.port === '' ? (url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : 80) : Number(url.port));
  } catch {
    return undefined;
  }
}

const errorCode = (e: unknown) => (e as { code?: unknown }).code?.toString() ?? (e instanceof Error ? e.message : String(e));

/**
 * Starts a proxy on 127.0.0.1 (a free port) that lets through only what
 * `guard` allows.
 */
export async function startTargetProxy(guard: TargetGuard): Promise<TargetProxy> {
  const outcomes = new Map<string, TargetOutcome>();
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  /** Vets `host:port`; records and returns undefined when it may not be reached. */
  const vetted = async (host: string, port: number): Promise<string | undefined> => {
    const key = targetKey(host, port);
    try {
      const verdict = await guard.vet(host, port);
      if (verdict.allowed) return verdict.address;
      outcomes.set(key, { kind: 'refused', reason: verdict.reason });
    } catch (e) {
      outcomes.set(key, { kind: 'failed', reason: `${errorCode(e)} resolving ${host}` });
    }
    return undefined;
  };

  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const key = keyOfUrl(req.url ?? '');
    const url = key === undefined ? undefined : new URL(req.url!);
    if (!url || url.protocol !== 'http:') {
      req.socket.destroy();
      return;
    }
    const port = url.port === '' ? 80 : Number(url.port);
    const address = await vetted(url.hostname, port);
    if (address === undefined) {
      req.socket.destroy();
      return;
    }
    // The Host header stays the page's; the connection goes to the vetted address only.
    const upstream = httpRequest({ host: address, port, method: req.method, path: `${url.pathname}${url.search}`, headers: endToEnd(req.headers), setHost: false, agent: false });
    upstream.on('socket', track);
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      answer.pipe(res);
    });
    upstream.on('error', (e) => {
      outcomes.set(key!, { kind: 'failed', reason: `${errorCode(e)} from ${address}:${port}` });
      req.socket.destroy();
    });
    // The page went away (closed, timed out): the upstream request goes with it.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const tunnel = async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = parseHostPort(req.url ?? '');
    if (!target || target.port === undefined) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const { host, port } = target;
    const address = await vetted(host, port);
    if (address === undefined) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream: Socket = connect({ host: address, port });
    track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (e) => {
      if (upstream.connecting) {
        outcomes.set(targetKey(host, port), { kind: 'failed', reason: `${errorCode(e)} from ${address}:${port}` });
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      } else client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  };

  const server = createServer();
  server.on('connection', track);
  server.on('request', (req, res) => void forward(req, res));
  server.on('connect', (req, client, head) => void tunnel(req, client, head));
  // Chromium tunnels WebSockets through CONNECT; an upgrade in proxy form is not expected.
  server.on('upgrade', (_req, client: Duplex) => client.destroy());
  server.on('clientError', (_e, client: Duplex) => client.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    server: `http://127.0.0.1:${port}`,
    outcomeOf(url) {
      const key = keyOfUrl(url);
      return key === undefined ? undefined : outcomes.get(key);
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
