import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';

/** Options of {@link drainServer}. */
export interface DrainOptions {
  /**
   * How long kept-alive connections stay open for one more request (answered
   * with `Connection: close`) before idle ones are closed.
   * @default 500
   */
  idleGraceMs?: number;
  /** Longest the whole drain may take; then every connection is closed. */
  timeoutMs: number;
  /** Resolves once no request is in flight. */
  requestsDone: () => Promise<void>;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Closes an HTTP server without resetting kept-alive connections. The caller
 * has already made every answer carry `Connection: close`. It stops listening
 * (new connections are refused, nothing is sent on them), gives clients
 * `idleGraceMs` to use their kept-alive connections once more, each closing
 * after its answer, then closes the connections still idle, waits for
 * requests in flight and, past `timeoutMs`, closes the rest.
 *
 * Closing an idle connection at once (what `server.close()` does) resets any
 * request the client sent on it at that moment.
 */
export async function drainServer(server: Server, o: DrainOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  // net.Server's close stops listening only; http.Server's also closes idle connections at once.
  // Its callback runs once every connection has ended.
  const allClosed = new Promise<void>((r) => NetServer.prototype.close.call(server, () => r()));
  await Promise.race([allClosed, delay(Math.min(o.idleGraceMs ?? 500, o.timeoutMs))]);
  server.closeIdleConnections();
  await Promise.race([o.requestsDone(), delay(Math.max(0, deadline - Date.now()))]);
  server.closeAllConnections();
  await allClosed;
}
