import { readFileSync } from 'node:fs';
import { ConfigError, readVar, type Env } from './parse.js';
import { Secret } from './secret.js';

/** Shortest key accepted: nats-server recommends at least 32 bytes. */
const MIN_STORE_KEY_LENGTH = 32;

/**
 * Characters a key may hold: those of hex and base64 (standard and URL-safe).
 * They need no escaping in a nats-server configuration string.
 */
const STORE_KEY_CHARACTERS = /^[A-Za-z0-9+/=_.-]+$/;

/**
 * Reads the JetStream encryption key of the local nats-server from
 * `NATS_STORE_KEY`, or from the file `NATS_STORE_KEY_FILE` names (surrounding
 * whitespace removed). Error messages never contain the key.
 * @param natsUrl `NATS_URL`: with it no local server starts, so a key is refused
 * @returns undefined when neither variable is set
 * @throws ConfigError naming the variable: both are set, the file cannot be
 * read, the key is shorter than 32 characters or
 * holds other characters than letters, digits and `+ / = _ . -`, or `NATS_URL` is set.
 */
export function readStoreKey(env: Env, natsUrl: string | undefined): Secret | undefined {
  const inline = readVar(env, 'NATS_STORE_KEY');
  const file = readVar(env, 'NATS_STORE_KEY_FILE');
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('NATS_STORE_KEY', 'and NATS_STORE_KEY_FILE are both set; set one of them');
  }
  const variable = file === undefined ? 'NATS_STORE_KEY' : 'NATS_STORE_KEY_FILE';
  if (inline === undefined && file === undefined) return undefined;
  if (natsUrl !== undefined) {
    // Refused rather than ignored: whoever set it believes the store is encrypted.
    throw new ConfigError(
      variable,
      'is set together with NATS_URL: the key encrypts only the local nats-server, which is not started when NATS_URL is set; ' +
        'encrypt that server\'s store in its own configuration (jetstream { cipher: chachapoly, key: ... }) and unset this variable',
    );
  }
  const key = inline ?? readKeyFile(file!);
  if (key.length === 0) throw new ConfigError(variable, `names an empty file (${file})`);
  if (key.length < MIN_STORE_KEY_LENGTH) {
    throw new ConfigError(variable, `holds a key of ${key.length} characters; it must have at least ${MIN_STORE_KEY_LENGTH} (e.g. openssl rand -hex 32)`);
  }
  if (!STORE_KEY_CHARACTERS.test(key)) {
    throw new ConfigError(variable, 'holds a key with characters other than letters, digits and + / = _ . - (e.g. openssl rand -hex 32)');
  }
  return new Secret(key);
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new ConfigError('NATS_STORE_KEY_FILE', `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (${path})`);
  }
}
