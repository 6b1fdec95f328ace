import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCodes } from '../errors/codes.js';
import { ServiceError } from '../errors/serviceError.js';
import type { Log } from '../log.js';
import { isListening, startLocalNats, type LocalNats } from './localServer.js';
import { encryptedStreams, STORE_CIPHER, writeKeyedConfig } from './storeEncryption.js';

/** The port nats.conf listens on. */
const EMBEDDED_DEFAULT_PORT = 4222;

/** Options for {@link startEmbeddedNats}. */
export interface EmbeddedNatsOptions {
  /** The folder holding nats.conf. */
  projectDir: string;
  /** The store goes under `<dataDir>/jetstream`. */
  dataDir: string;
  log: Log;
  /**
   * JetStream encryption key (`NATS_STORE_KEY`).
   * @default undefined (the store is not encrypted)
   */
  storeKey?: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @default 4222, or a free port when 4222 is taken
   */
  port?: number;
}

/**
 * Starts the local nats-server used when `NATS_URL` is not set: the
 * project's nats.conf, store under `<dataDir>/jetstream` (`./data/jetstream` by default). When port 4222 is
 * already taken (another nats-server on this machine), it listens on a free
 * port instead and logs the URL. With a `storeKey` the store is encrypted
 * (`cipher: chachapoly`): the server reads nats.conf plus the key from a
 * 0600 file in `dataDir` that is removed as soon as the server listens.
 * @throws ServiceError `CONFIG_INVALID` naming `NATS_STORE_KEY` when no key is
 * given but the store holds streams written with one: the server would skip
 * them and the service would create empty streams in their place.
 */
export async function startEmbeddedNats(options: EmbeddedNatsOptions): Promise<LocalNats> {
  const { dataDir, log, storeKey } = options;
  const storeDir = resolve(dataDir, 'jetstream');
  const baseConfig = resolve(options.projectDir, 'nats.conf');
  if (storeKey === undefined) await refuseEncryptedStore(storeDir);

  const taken = options.port === undefined && (await isListening('127.0.0.1', EMBEDDED_DEFAULT_PORT));
  await mkdir(dataDir, { recursive: true });
  const configFile = storeKey === undefined ? baseConfig : await writeKeyedConfig(baseConfig, dataDir, storeKey);
  let server: LocalNats;
  try {
    server = await startLocalNats({
      configFile,
      storeDir,
      port: options.port ?? (taken ? 0 : EMBEDDED_DEFAULT_PORT),
      onLog: (line) => logServerLine(log, line),
    });
  } finally {
    // The server has read it (or failed): the key stays off the disk that holds the store.
    if (configFile !== baseConfig) await rm(configFile, { force: true });
  }
  if (taken) log.warn({ url: server.url }, `port ${EMBEDDED_DEFAULT_PORT} is taken; the local nats-server listens on another port`);
  log.info(
    { url: server.url, storeDir: server.storeDir, pid: server.pid, storeEncryption: storeKey === undefined ? 'none' : STORE_CIPHER },
    'local nats-server started',
  );
  return server;
}

async function refuseEncryptedStore(storeDir: string): Promise<void> {
  const encrypted = await encryptedStreams(storeDir);
  if (encrypted.length === 0) return;
  throw new ServiceError(
    ErrorCodes.CONFIG_INVALID,
    `NATS_STORE_KEY is not set, but the streams ${encrypted.join(', ')} in ${storeDir} were written with a key: ` +
      'nats-server would skip them and the service would create empty ones in their place. ' +
      'Set NATS_STORE_KEY or NATS_STORE_KEY_FILE to the key they were written with',
  );
}

/** nats-server's own lines go to debug, except those an operator must see. */
function logServerLine(log: Log, line: string): void {
  if (line.includes('Error decrypting')) {
    log.error({ nats: line }, 'the local nats-server cannot read a stream of its store: NATS_STORE_KEY is not the key it was written with');
  } else if (line.includes('Encrypting stream')) {
    log.info({ nats: line }, 'the local nats-server encrypts a stream written without a key');
  } else {
    log.debug({ nats: line }, 'nats-server');
  }
}
