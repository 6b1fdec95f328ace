import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCodes } from '../errors/codes.js';
import type { Log } from '../log.js';
import type { OpsMetrics } from '../ops/metrics.js';
import { rawErrorResponse } from './rawResponse.js';

/** Options of {@link guardConnections}. */
export interface ConnectionGuardOptions {
  /** Most connections open at once; one more is answered `503` and closed. */
  maxConnections: number;
  metrics: OpsMetrics;
  log: Log;
}

/** What the guard reports. */
export interface ConnectionGuard {
  /** Connections open now. */
  readonly open: number;
}

// Long enough for the client to read the answer, short enough to free the socket.
const REFUSED_LINGER_MS = 2000;

function refuse(socket: Socket, response: string): void {
  socket.on('error', () => undefined);
  // Read and discard whatever the client sends, so closing does not reset the answer away.
  socket.resume();
  socket.end(response);
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
}

/**
 * Puts a cap in front of the HTTP server: beyond `maxConnections` a new
 * connection gets a minimal `503 HTTP_TOO_MANY_CONNECTIONS` at once and is
 * closed, instead of waiting in the accept queue. Answers the server's
 * header and request timeouts and malformed requests with the standard
 * JSON error, counting slow senders; a connection that timed out without
 * sending a byte is closed silently. `CONNECT` and methods HTTP does not
 * know get `501 HTTP_METHOD_NOT_IMPLEMENTED`. Call before `listen`.
 */
export function guardConnections(server: Server, o: ConnectionGuardOptions): ConnectionGuard {
  // The HTTP server's own listener parses the connection; it runs only for admitted ones.
  const httpListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  let open = 0;
  const tooMany = rawErrorResponse(503, ErrorCodes.HTTP_TOO_MANY_CONNECTIONS, 'the server has too many open connections; retry shortly', { 'Retry-After': '1' });

  server.on('connection', (socket: Socket) => {
    if (open >= o.maxConnections) {
      o.metrics.connectionsRefused.inc();
      refuse(socket, tooMany);
      return;
    }
    open++;
    o.metrics.openConnections.inc();
    socket.once('close', () => {
      open--;
      o.metrics.openConnections.dec();
    });
    for (const l of httpListeners) l.call(server, socket);
  });

  const notImplemented = (method: string) =>
    rawErrorResponse(501, ErrorCodes.HTTP_METHOD_NOT_IMPLEMENTED, `no route of this service takes ${method}`);
  // Without a listener Node drops a CONNECT request without an answer.
  server.on('connect', (req: { method?: string }, socket: Socket) => refuse(socket, notImplemented(req.method ?? 'CONNECT')));

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? '';
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.bytesRead === 0) {
      // A connection opened ahead of need (browsers preconnect) and never used: close it quietly.
      socket.destroy();
      return;
    }
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') o.metrics.slowClientsClosed.inc();
    // Answer only when no response has started on this socket (Node's own rule).
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
      const response =
        code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? rawErrorResponse(408, ErrorCodes.HTTP_REQUEST_TIMEOUT, 'the request did not arrive in time')
          : code === 'HPE_HEADER_OVERFLOW'
            ? rawErrorResponse(431, ErrorCodes.HTTP_HEADERS_TOO_LARGE, 'request headers are too large')
            : code === 'HPE_INVALID_METHOD'
              ? notImplemented('this method')
              : rawErrorResponse(400, ErrorCodes.HTTP_BAD_REQUEST, 'malformed HTTP request');
      socket.write(response);
    }
    o.log.debug({ code, message: err.message }, 'client error; connection closed');
    socket.destroy(err);
  });

  return {
    get open() {
      return open;
    },
  };
}
