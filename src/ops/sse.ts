import type { ServerResponse } from 'node:http';
import type { LiveEvent, OpsReader } from './opsReader.js';

/** Options of {@link SseBroadcaster}. */
export interface SseOptions {
  /**
   * Comment line sent to every client this often, so proxies keep the connection.
   * @default 15000
   */
  heartbeatMs?: number;
  /**
   * Bytes that may wait in one client's socket buffer; while more wait,
   * that client's events are dropped (and counted).
   * @default 262144
   */
  maxBufferedBytes?: number;
  /**
   * Heartbeats in a row a client may stay over its buffer before it is closed.
   * @default 4
   */
  maxStalledHeartbeats?: number;
  /** Counts events a slow client did not get. */
  onDropped?: (count: number) => void;
  /** Reports how many clients are connected. */
  onClients?: (count: number) => void;
}

interface Client {
  res: ServerResponse;
  /** Events dropped since its buffer last had room. */
  dropped: number;
  stalledHeartbeats: number;
}

/** One SSE frame: `event: <type>` and the JSON data. */
export function sseFrame(event: LiveEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Server-Sent Events to every `GET /events` client. Each batch is encoded
 * once and written to every client whose socket buffer has room; a slow
 * client misses events (counted, and told with a `dropped` event when it
 * catches up) but never holds anything up. It subscribes to the operating
 * view only while it has clients.
 */
export class SseBroadcaster {
  private readonly clients = new Set<Client>();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly maxBuffered: number;

  constructor(
    private readonly source: OpsReader,
    private readonly o: SseOptions = {},
  ) {
    this.maxBuffered = o.maxBufferedBytes ?? 256 * 1024;
  }

  /** Clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  /**
   * Turns `res` into an event stream and keeps it until the client leaves.
   * `first` frames are written at once (the current picture).
   */
  add(res: ServerResponse, first = ''): void {
    // The client may have left while its first snapshot was being built.
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write(`retry: 2000\n\n${first}`);
    const client: Client = { res, dropped: 0, stalledHeartbeats: 0 };
    this.clients.add(client);
    res.once('close', () => this.remove(client));
    this.changed();
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    this.changed();
  }

  private changed(): void {
    this.o.onClients?.(this.clients.size);
    if (this.clients.size > 0 && !this.unsubscribe) {
      this.unsubscribe = this.source.subscribe((batch) => this.broadcast(batch));
      this.heartbeat = setInterval(() => this.beat(), this.o.heartbeatMs ?? 15_000);
      this.heartbeat.unref();
    } else if (this.clients.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /** Sends one batch to every client with room in its buffer. */
  broadcast(batch: readonly LiveEvent[]): void {
    if (batch.length === 0 || this.clients.size === 0) return;
    let frames = '';
    for (const e of batch) frames += sseFrame(e);
    for (const c of this.clients) {
      if (c.res.writableLength > this.maxBuffered) {
        c.dropped += batch.length;
        this.o.onDropped?.(batch.length);
        continue;
      }
      if (c.dropped > 0) {
        c.res.write(`event: dropped\ndata: ${JSON.stringify({ count: c.dropped })}\n\n`);
        c.dropped = 0;
      }
      c.res.write(frames);
    }
  }

  private beat(): void {
    for (const c of this.clients) {
      if (c.res.writableLength > this.maxBuffered) {
        // A client that reads nothing for minutes holds a connection for nothing.
        if (++c.stalledHeartbeats >= (this.o.maxStalledHeartbeats ?? 4)) c.res.destroy();
        continue;
      }
      c.stalledHeartbeats = 0;
      c.res.write(`: keep-alive ${Date.now()}\n\n`);
    }
  }

  /** Ends every stream (at shutdown). */
  close(): void {
    for (const c of [...this.clients]) {
      c.res.end();
      this.remove(c);
    }
  }
}
