import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { credsAuthenticator, nkeyAuthenticator } from '@nats-io/transport-node';
import { ConfigError, readVar, type Env } from './parse.js';
import { Secret } from './secret.js';

/**
 * How the service proves who it is to NATS: at most one method, chosen by
 * which variables are set (see docs/security.md, "Connecting to a secured NATS").
 */
export type NatsAuth =
  | { readonly method: 'none' }
  /** `NATS_USER` + `NATS_PASSWORD`/`NATS_PASSWORD_FILE`, or `user:password@` in `NATS_URL`. */
  | { readonly method: 'password'; readonly user: string; readonly password: Secret; readonly from: string }
  /** `NATS_TOKEN`/`NATS_TOKEN_FILE`, or `token@` in `NATS_URL`. */
  | { readonly method: 'token'; readonly token: Secret; readonly from: string }
  /** `NATS_NKEY_SEED_FILE`: an nkey seed (`SU…`). */
  | { readonly method: 'nkey'; readonly seed: Secret; readonly from: string }
  /** `NATS_CREDS`: a `.creds` file (user JWT + nkey seed), as `nsc` and Synadia Cloud issue them. */
  | { readonly method: 'creds'; readonly creds: Secret; readonly from: string };

/** TLS towards NATS, PEM texts read at start. */
export interface NatsTls {
  /** `NATS_TLS_CA`: the CA that signed the server's certificate; the system's CAs when unset. */
  readonly ca: string | undefined;
  /** `NATS_TLS_CERT`: the client certificate, for mutual TLS. */
  readonly cert: string | undefined;
  /** `NATS_TLS_KEY`: the client certificate's private key. */
  readonly key: Secret | undefined;
}

/** Everything but the server list that the NATS client needs. */
export interface NatsClientConfig {
  readonly auth: NatsAuth;
  /**
   * Required TLS (a `tls://` URL or any `NATS_TLS_*` variable); undefined
   * lets the server decide (TLS when it offers it).
   */
  readonly tls: NatsTls | undefined;
  /**
   * `NATS_INBOX_PREFIX`: prefix of every reply subject this process
   * listens on, so a permission can give each user its own inboxes.
   * @default '_INBOX'
   */
  readonly inboxPrefix: string;
}

/** `NATS_URL` split into server URLs without credentials, and the credentials it carried. */
export interface ParsedNatsUrl {
  /** `nats://host:port` (or `tls://`, `ws://`, `wss://`), one per entry, credentials removed. */
  readonly servers: string[];
  /** `user:password@` or `token@` of the entries; every entry that has one must have the same. */
  readonly userinfo: { user: string; password: string | undefined } | undefined;
  /** Whether an entry uses `tls://` (the client then refuses a connection without TLS). */
  readonly tls: boolean;
}

const URL_SHAPE = 'must be a comma-separated list of nats://host:port URLs';

/**
 * Splits `NATS_URL` into server URLs and the credentials it carries; never
 * echoes a credential in its errors.
 * @throws ConfigError naming `NATS_URL`.
 */
export function parseNatsUrl(raw: string): ParsedNatsUrl {
  const servers: string[] = [];
  let userinfo: ParsedNatsUrl['userinfo'];
  let tls = false;
  for (const entry of raw.split(',')) {
    const s = entry.trim();
    const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new ConfigError('NATS_URL', `${URL_SHAPE}, got an entry that is not a URL`);
    }
    if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) || !url.hostname) {
      throw new ConfigError('NATS_URL', `${URL_SHAPE}, got '${url.protocol}//${url.host}'`);
    }
    if (url.username) {
      const here = { user: decodeURIComponent(url.username), password: url.password ? decodeURIComponent(url.password) : undefined };
      if (userinfo && (userinfo.user !== here.user || userinfo.password !== here.password)) {
        throw new ConfigError('NATS_URL', 'carries different credentials in two of its URLs; give them once (or use NATS_USER/NATS_PASSWORD)');
      }
      userinfo = here;
    }
    tls ||= url.protocol === 'tls:' || url.protocol === 'wss:';
    servers.push(`${url.protocol}//${url.host}`);
  }
  return { servers, userinfo, tls };
}

/**
 * Reads a file a variable names (a container secret, a certificate).
 * @throws ConfigError naming the variable when it cannot be read or is empty.
 */
function readFileVar(env: Env, name: string): string | undefined {
  const path = readVar(env, name);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(name, `names a file that cannot be read: ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (text.trim() === '') throw new ConfigError(name, `names an empty file: ${path}`);
  return text;
}

/** A secret given either directly (`NAME`) or in a file (`NAME_FILE`), never both. */
function secretVar(env: Env, name: string): { secret: Secret; from: string } | undefined {
  const direct = readVar(env, name);
  const file = readFileVar(env, `${name}_FILE`);
  if (direct !== undefined && file !== undefined) throw new ConfigError(`${name}_FILE`, `and ${name} are both set; give the secret once`);
  if (direct !== undefined) return { secret: new Secret(direct), from: name };
  // A trailing newline is what `echo secret > file` leaves; it is never part of the secret.
  if (file !== undefined) return { secret: new Secret(file.trim()), from: `${name}_FILE` };
  return undefined;
}

/** Checks an nkey seed or a creds file by letting nats.js sign a nonce with it. */
function checkSigns(name: string, sign: (nonce: string) => unknown, what: string): void {
  try {
    sign('configuration check');
  } catch {
    throw new ConfigError(name, `does not hold ${what}`);
  }
}

function loadAuth(env: Env, url: ParsedNatsUrl | undefined): NatsAuth {
  const candidates: NatsAuth[] = [];
  const user = readVar(env, 'NATS_USER');
  const password = secretVar(env, 'NATS_PASSWORD');
  if (password && user === undefined) throw new ConfigError(password.from, 'is set without NATS_USER');
  if (user !== undefined) {
    if (!password) throw new ConfigError('NATS_USER', 'is set without NATS_PASSWORD or NATS_PASSWORD_FILE');
    candidates.push({ method: 'password', user, password: password.secret, from: `NATS_USER, ${password.from}` });
  }
  const token = secretVar(env, 'NATS_TOKEN');
  if (token) candidates.push({ method: 'token', token: token.secret, from: token.from });
  const seed = readFileVar(env, 'NATS_NKEY_SEED_FILE');
  if (seed !== undefined) {
    const value = seed.trim();
    checkSigns('NATS_NKEY_SEED_FILE', (n) => nkeyAuthenticator(new TextEncoder().encode(value))(n), 'an nkey seed (SU…)');
    candidates.push({ method: 'nkey', seed: new Secret(value), from: 'NATS_NKEY_SEED_FILE' });
  }
  const creds = readFileVar(env, 'NATS_CREDS');
  if (creds !== undefined) {
    checkSigns('NATS_CREDS', (n) => credsAuthenticator(new TextEncoder().encode(creds))(n), 'NATS credentials (a user JWT and its nkey seed)');
    candidates.push({ method: 'creds', creds: new Secret(creds), from: 'NATS_CREDS' });
  }
  if (url?.userinfo) {
    const { user: u, password: p } = url.userinfo;
    candidates.push(p === undefined ? { method: 'token', token: new Secret(u), from: 'NATS_URL' } : { method: 'password', user: u, password: new Secret(p), from: 'NATS_URL' });
  }
  if (candidates.length > 1) {
    const [first, second] = candidates as [Exclude<NatsAuth, { method: 'none' }>, Exclude<NatsAuth, { method: 'none' }>];
    throw new ConfigError(second.from.split(', ')[0]!, `and ${first.from} are two ways of authenticating to NATS; set only one`);
  }
  return candidates[0] ?? { method: 'none' };
}

function checkCertificate(name: string, pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ConfigError(name, 'does not hold a PEM certificate');
  }
}

function loadTls(env: Env, url: ParsedNatsUrl | undefined): NatsTls | undefined {
  const ca = readFileVar(env, 'NATS_TLS_CA');
  const cert = readFileVar(env, 'NATS_TLS_CERT');
  const key = readFileVar(env, 'NATS_TLS_KEY');
  if (ca !== undefined) checkCertificate('NATS_TLS_CA', ca);
  if (key !== undefined && cert === undefined) throw new ConfigError('NATS_TLS_KEY', 'is set without NATS_TLS_CERT (the certificate it belongs to)');
  if (cert !== undefined && key === undefined) throw new ConfigError('NATS_TLS_CERT', 'is set without NATS_TLS_KEY (its private key)');
  if (cert !== undefined && key !== undefined) {
    const certificate = checkCertificate('NATS_TLS_CERT', cert);
    let privateKey;
    try {
      privateKey = createPrivateKey(key);
    } catch {
      throw new ConfigError('NATS_TLS_KEY', 'does not hold a PEM private key (an encrypted key is not supported)');
    }
    if (!certificate.checkPrivateKey(privateKey)) throw new ConfigError('NATS_TLS_KEY', 'is not the private key of the certificate in NATS_TLS_CERT');
  }
  if (ca === undefined && cert === undefined && !url?.tls) return undefined;
  return { ca, cert, key: key === undefined ? undefined : new Secret(key) };
}

// A subject prefix: tokens of letters, digits, `_`, `-`, joined by dots; no wildcards.
const INBOX_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Reads how to reach NATS beyond its URLs: authentication, TLS and the
 * inbox prefix. Files are read now, once.
 * @throws ConfigError naming the variable: an unreadable or malformed file,
 * two ways of authenticating at once, a key without its certificate, or any
 * of these while `NATS_URL` is unset (the local nats-server takes none).
 */
export function loadNatsClientConfig(env: Env, url: ParsedNatsUrl | undefined): NatsClientConfig {
  const auth = loadAuth(env, url);
  const tls = loadTls(env, url);
  const inboxPrefix = readVar(env, 'NATS_INBOX_PREFIX') ?? '_INBOX';
  if (!INBOX_PREFIX.test(inboxPrefix)) throw new ConfigError('NATS_INBOX_PREFIX', `must be a subject without wildcards, such as _INBOX_relay, got '${inboxPrefix}'`);
  if (url === undefined && auth.method !== 'none') {
    throw new ConfigError(auth.from.split(', ')[0]!, 'is set but NATS_URL is not: the local nats-server started without NATS_URL takes no credentials; set NATS_URL to the secured server');
  }
  if (url === undefined && tls) {
    const variable = ['NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'].find((name) => readVar(env, name) !== undefined)!;
    throw new ConfigError(variable, 'is set but NATS_URL is not: the local nats-server started without NATS_URL has no TLS; set NATS_URL to the secured server');
  }
  return { auth, tls, inboxPrefix };
}
