import type { InspectionEvent, Observer } from 'xstate';

/** The XState inspector for development (`XSTATE_INSPECT=1`). */
export interface DevInspector {
  /** Pass as `inspect` to the root actor. */
  readonly inspect: Observer<InspectionEvent>;
  /** Open this page in a browser to see the actors (it embeds https://stately.ai/inspect). */
  readonly url: string;
  /** Closes the WebSocket and the local bridge server. */
  stop(): void;
}

/**
 * Starts `@statelyai/inspect`'s local bridge server on `port` and a WebSocket
 * inspector that feeds it. (`createBrowserInspector` needs a browser window;
 * in Node the events go over a WebSocket to the bridge page, which forwards
 * them to the Stately inspector it embeds.) The modules are loaded only here,
 * so production never loads them.
 */
export async function startDevInspector(port: number): Promise<DevInspector> {
  const [{ createWebSocketInspector }, { createInspectorServer }] = await Promise.all([
    import('@statelyai/inspect'),
    import('@statelyai/inspect/server'),
  ]);
  const server = createInspectorServer({ port, autoOpen: false });
  const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
  return {
    inspect: inspector.inspect,
    url: `http://localhost:${port}`,
    stop() {
      inspector.stop();
      server.stop();
    },
  };
}
