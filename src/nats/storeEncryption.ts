import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The cipher of an encrypted local store (nats-server's `jetstream { cipher }`). */
export const STORE_CIPHER = 'chachapoly';

/** The server configuration written with the key, in the data directory. */
export const KEYED_CONFIG_FILE = 'nats-server.conf';

/**
 * Writes `<dataDir>/nats-server.conf`: the text of `baseConfigFile` with
 * `cipher` and `key` added to its `jetstream` block, created with mode 0600
 * (an older file is removed first, so its mode cannot be inherited). The key
 * thus never appears on nats-server's command line, which `ps` shows to
 * every user; the caller removes the file once the server has read it.
 * @returns the path of the written file
 * @throws Error when `baseConfigFile` has no single `jetstream {` block
 */
export async function writeKeyedConfig(baseConfigFile: string, dataDir: string, key: string): Promise<string> {
  const base = await readFile(baseConfigFile, 'utf8');
  const blocks = base.match(/^jetstream\s*\{/gm) ?? [];
  if (blocks.length !== 1) throw new Error(`${baseConfigFile} must have exactly one 'jetstream {' block to add the store key to, found ${blocks.length}`);
  const keyed = base.replace(/^jetstream\s*\{/m, (open) => `${open}\n  cipher: ${STORE_CIPHER}\n  key: "${key}"`);
  const path = join(dataDir, KEYED_CONFIG_FILE);
  await rm(path, { force: true });
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(`# ${baseConfigFile} with the JetStream key, written at start; removed once nats-server has read it.\n${keyed}`);
  } finally {
    await file.close();
  }
  return path;
}

/**
 * Names of the streams in a nats-server store directory that were written
 * with a key (each has a `meta.key` file); empty for a new or plain store.
 */
export async function encryptedStreams(storeDir: string): Promise<string[]> {
  const root = join(storeDir, 'jetstream');
  const names: string[] = [];
  for (const account of await entries(root)) {
    const streams = join(root, account, 'streams');
    for (const stream of await entries(streams)) {
      if (await exists(join(streams, stream, 'meta.key'))) names.push(stream);
    }
  }
  return names;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
