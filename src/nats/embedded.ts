import { resolve } from 'node:path';
import type { Log } from '../log.js';
import { isListening, startLocalNats, type LocalNats } from './localServer.js';

/** The port nats.conf listens on. */
const EMBEDDED_DEFAULT_PORT = 4222;

/**
 * Starts the local nats-server used when `NATS_URL` is not set: the
 * project's nats.conf, store under `<dataDir>/jetstream` (`./data/jetstream` by default). When port 4222 is
 * already taken (another nats-server on this machine), it listens on a free
 * port instead and logs the URL.
 */
export async function startEmbeddedNats(projectDir: string, dataDir: string, log: Log): Promise<LocalNats> {
  const taken = await isListening('127.0.0.1', EMBEDDED_DEFAULT_PORT);
  const server = await startLocalNats({
    configFile: resolve(projectDir, 'nats.conf'),
    storeDir: resolve(dataDir, 'jetstream'),
    port: taken ? 0 : EMBEDDED_DEFAULT_PORT,
    onLog: (line) => log.debug({ nats: line }, 'nats-server'),
  });
  if (taken) log.warn({ url: server.url }, `port ${EMBEDDED_DEFAULT_PORT} is taken; the local nats-server listens on another port`);
  log.info({ url: server.url, storeDir: server.storeDir, pid: server.pid }, 'local nats-server started');
  return server;
}
