import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createUser } from '@nats-io/nkeys';
import { expect } from 'chai';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/serviceConfig.js';
import type { Env } from '../../src/config/parse.js';
import { Secret } from '../../src/config/secret.js';
import { makeJwtAuth } from '../helpers/natsJwt.js';
import { makeTlsFiles, type TlsFiles } from '../helpers/tlsFiles.js';

const URL = 'nats://127.0.0.1:4222';

function refusal(env: Env): string {
  try {
    loadConfig(env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected loadConfig to refuse');
}

describe('NATS client configuration', () => {
  let dir: string;
  let tls: TlsFiles;
  let files: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webhook-relay-nats-client-'));
    tls = await makeTlsFiles(dir);
    const write = async (name: string, text: string) => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    };
    const jwt = await makeJwtAuth();
    files = {
      password: await write('password', 'p4ssw0rd-from-a-file\n'),
      empty: await write('empty', '  \n'),
      seed: await write('relay.nk', new TextDecoder().decode(createUser().getSeed())),
      creds: await write('relay.creds', jwt.creds),
      notCreds: await write('not.creds', 'hello'),
      notPem: await write('not.pem', 'not a certificate'),
    };
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('connects without credentials by default, with _INBOX replies and TLS left to the server', () => {
    const { client, url } = loadConfig({ NATS_URL: URL }).nats;
    expect(url).to.equal(URL);
    expect(client).to.deep.equal({ auth: { method: 'none' }, tls: undefined, inboxPrefix: '_INBOX' });
  });

  it('reads a password from a file without its trailing newline', () => {
    const { auth } = loadConfig({ NATS_URL: URL, NATS_USER: 'relay', NATS_PASSWORD_FILE: files.password! }).nats.client;
    expect(auth.method).to.equal('password');
    expect(auth.method === 'password' && auth.password.reveal()).to.equal('p4ssw0rd-from-a-file');
  });

  it('takes user:password@ out of NATS_URL, percent-decoded, and keeps the URLs without it', () => {
    const { url, client } = loadConfig({ NATS_URL: 'nats://relay:p%40ss@127.0.0.1:4222, nats://127.0.0.1:4223' }).nats;
    expect(url).to.equal('nats://127.0.0.1:4222,nats://127.0.0.1:4223');
    expect(client.auth).to.include({ method: 'password', user: 'relay', from: 'NATS_URL' });
    expect(client.auth.method === 'password' && client.auth.password.reveal()).to.equal('p@ss');
  });

  it('reads token@ in NATS_URL as a token', () => {
    const { auth } = loadConfig({ NATS_URL: 'nats://s3cr3t-token@127.0.0.1:4222' }).nats.client;
    expect(auth.method === 'token' && auth.token.reveal()).to.equal('s3cr3t-token');
  });

  it('requires TLS for a tls:// URL, and reads the CA and a client certificate with its key', () => {
    expect(loadConfig({ NATS_URL: 'tls://127.0.0.1:4222' }).nats.client.tls).to.deep.equal({ ca: undefined, cert: undefined, key: undefined });
    const { tls: t } = loadConfig({ NATS_URL: URL, NATS_TLS_CA: tls.caCert, NATS_TLS_CERT: tls.clientCert, NATS_TLS_KEY: tls.clientKey }).nats.client;
    expect(t?.ca).to.match(/BEGIN CERTIFICATE/);
    expect(t?.cert).to.match(/BEGIN CERTIFICATE/);
    expect(t?.key?.reveal()).to.match(/PRIVATE KEY/);
  });

  it('accepts an nkey seed file and a creds file that nats.js can sign with', () => {
    expect(loadConfig({ NATS_URL: URL, NATS_NKEY_SEED_FILE: files.seed! }).nats.client.auth.method).to.equal('nkey');
    expect(loadConfig({ NATS_URL: URL, NATS_CREDS: files.creds! }).nats.client.auth.method).to.equal('creds');
  });

  const cases: [string, () => Env, RegExp][] = [
    ['two ways of authenticating at once', () => ({ NATS_URL: URL, NATS_TOKEN: 'tok', NATS_CREDS: files.creds! }), /^NATS_CREDS and NATS_TOKEN are two ways of authenticating to NATS; set only one$/],
    ['credentials in NATS_URL and a variable', () => ({ NATS_URL: 'nats://u:p@127.0.0.1:4222', NATS_USER: 'relay', NATS_PASSWORD: 'x' }), /^NATS_URL and NATS_USER, NATS_PASSWORD are two ways/],
    ['different credentials in two URLs', () => ({ NATS_URL: 'nats://u:p@h1:4222,nats://u:q@h2:4222' }), /^NATS_URL carries different credentials in two of its URLs/],
    ['a password and its file', () => ({ NATS_URL: URL, NATS_USER: 'relay', NATS_PASSWORD: 'x', NATS_PASSWORD_FILE: files.password! }), /^NATS_PASSWORD_FILE and NATS_PASSWORD are both set/],
    ['a password without a user', () => ({ NATS_URL: URL, NATS_PASSWORD: 'x' }), /^NATS_PASSWORD is set without NATS_USER$/],
    ['a user without a password', () => ({ NATS_URL: URL, NATS_USER: 'relay' }), /^NATS_USER is set without NATS_PASSWORD or NATS_PASSWORD_FILE$/],
    ['an unreadable file', () => ({ NATS_URL: URL, NATS_TOKEN_FILE: join(dir, 'missing') }), /^NATS_TOKEN_FILE names a file that cannot be read: .*missing \(ENOENT\)$/],
    ['an empty file', () => ({ NATS_URL: URL, NATS_CREDS: files.empty! }), /^NATS_CREDS names an empty file/],
    ['a creds file that is not one', () => ({ NATS_URL: URL, NATS_CREDS: files.notCreds! }), /^NATS_CREDS does not hold NATS credentials/],
    ['a seed file that is not one', () => ({ NATS_URL: URL, NATS_NKEY_SEED_FILE: files.notCreds! }), /^NATS_NKEY_SEED_FILE does not hold an nkey seed/],
    ['a CA that is not a certificate', () => ({ NATS_URL: URL, NATS_TLS_CA: files.notPem! }), /^NATS_TLS_CA does not hold a PEM certificate$/],
    ['a key without its certificate', () => ({ NATS_URL: URL, NATS_TLS_KEY: tls.clientKey }), /^NATS_TLS_KEY is set without NATS_TLS_CERT/],
    ['a certificate without its key', () => ({ NATS_URL: URL, NATS_TLS_CERT: tls.clientCert }), /^NATS_TLS_CERT is set without NATS_TLS_KEY/],
    ['a key of another certificate', () => ({ NATS_URL: URL, NATS_TLS_CERT: tls.clientCert, NATS_TLS_KEY: tls.serverKey }), /^NATS_TLS_KEY is not the private key of the certificate in NATS_TLS_CERT$/],
    ['credentials for the local server', () => ({ NATS_TOKEN: 'tok' }), /^NATS_TOKEN is set but NATS_URL is not/],
    ['TLS for the local server', () => ({ NATS_TLS_CA: tls.caCert }), /^NATS_TLS_CA is set but NATS_URL is not/],
    ['an inbox prefix with a wildcard', () => ({ NATS_URL: URL, NATS_INBOX_PREFIX: '_INBOX.*' }), /^NATS_INBOX_PREFIX must be a subject without wildcards/],
  ];
  for (const [what, env, message] of cases) {
    it(`stops the service for ${what}, naming the variable`, () => {
      expect(refusal(env())).to.match(message);
    });
  }

  it('never echoes a credential of NATS_URL in its refusal', () => {
    expect(refusal({ NATS_URL: 'http://relay:hunter2-secret@127.0.0.1:4222' })).not.to.include('hunter2');
    expect(refusal({ NATS_URL: 'nats://u:hunter2-secret@h1:4222,nats://u:other-secret@h2:4222' })).not.to.match(/hunter2|other-secret/);
  });

  it('prints a configuration with secrets as [redacted] in JSON, pino and util.inspect', () => {
    const config = loadConfig({ NATS_URL: 'nats://relay:hunter2-secret@127.0.0.1:4222' });
    const logged: string[] = [];
    const log = pino(new Writable({ write: (chunk: Buffer, _e, done) => (logged.push(chunk.toString()), done()) }));
    log.info({ config }, 'config');
    for (const text of [JSON.stringify(config), inspect(config, { depth: 10 }), logged.join(''), `${String(new Secret('hunter2-secret'))}`]) {
      expect(text).not.to.include('hunter2');
    }
    expect(JSON.stringify(config.nats.client.auth)).to.include('[redacted]');
  });
});
