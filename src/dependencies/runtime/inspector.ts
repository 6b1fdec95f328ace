import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';

/** The XState inspector for development (`XSTATE_INSPECT=1`). */
export interface DevInspector {
  /** Pass as `inspect` to the root actor. */
  readonly inspect: Observer<InspectionEvent>;
  /** Open this page in a browser to see the actors (it embeds https://stately.ai/inspect). */
  readonly url: string;
  /** The address the bridge server listens on. */
  readonly address: AddressInfo;
  /** Closes the bridge server and its event streams. */
  stop(): Promise<void>;
}

/** Options of {@link startDevInspector}. */
export interface DevInspectorOptions {
  /** `XSTATE_INSPECT_PORT` (0: any free port). */
  port: number;
  /**
   * The interface to listen on: `HOST`.
   * @default '127.0.0.1'
   */
  host?: string;
}

/** Events kept for a page that opens later (as `@statelyai/inspect`'s own server does). */
const REPLAYED_EVENTS = 200;

// The page relays events from the service to the embedded Stately inspector, once it says it is ready.
const BRIDGE_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>XState inspector</title>
<style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
  const frame = document.getElementById('inspector');
  const waiting = [];
  let ready = false;
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === '@statelyai.connected') {
      ready = true;
      for (const event of waiting.splice(0)) frame.contentWindow.postMessage(event, '*');
    }
  });
  new EventSource('/events').onmessage = (m) => {
    const event = JSON.parse(m.data);
    if (ready) frame.contentWindow.postMessage(event, '*');
    else waiting.push(event);
  };
</script></body></html>`;

/** JSON of an inspection event; an object met twice (a cycle) is written as a marker. */
function eventJson(event: unknown): string | undefined {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(event, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value !== 'object' || value === null) return value;
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
      return value;
    });
  } catch {
    return undefined;
  }
}

/**
 * Starts the inspector's bridge: an HTTP server on `host:port` (loopback
 * unless `HOST` says otherwise) serving a page that embeds the Stately
 * inspector and feeds it the actors' events over Server-Sent Events.
 *
 * `@statelyai/inspect/server`'s `createInspectorServer` cannot be used: it
 * listens on every interface and takes no host (issue 11, item 5). The
 * events still go through the library's `createInspector`, with an adapter
 * writing to this server's streams; without CORS headers no other origin
 * can read them. The module is loaded only here, so production never loads it.
 * @throws Error when the port cannot be bound.
 */
export async function startDevInspector(options: DevInspectorOptions): Promise<DevInspector> {
  const { createInspector } = await import('@statelyai/inspect');
  const host = options.host ?? '127.0.0.1';
  const recent: string[] = [];
  const streams = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    if (req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      for (const data of recent) res.write(`data: ${data}\n\n`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(BRIDGE_PAGE);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });

  const inspector = createInspector({
    send(event) {
      const data = eventJson(event);
      if (data === undefined) return;
      recent.push(data);
      if (recent.length > REPLAYED_EVENTS) recent.shift();
      for (const res of streams) res.write(`data: ${data}\n\n`);
    },
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    inspect: inspector.inspect,
    url: `http://${shown}:${address.port}`,
    address,
    async stop() {
      inspector.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
