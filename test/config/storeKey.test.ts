import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/serviceConfig.js';
import { ConfigError } from '../../src/config/parse.js';

const KEY = 'f3a91c07d25e48b6a0c4e7d1b9f28a6035c1e9d74b2a8f60c3e51d9a7b0f4c28';

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('readStoreKey (NATS_STORE_KEY, NATS_STORE_KEY_FILE)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webhook-relay-store-key-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves the store unencrypted when neither variable is set', () => {
    expect(loadConfig({}).nats.storeKey).to.equal(undefined);
    expect(loadConfig({ NATS_STORE_KEY: '  ' }).nats.storeKey).to.equal(undefined);
  });

  it('reads the key from NATS_STORE_KEY', () => {
    expect(loadConfig({ NATS_STORE_KEY: KEY }).nats.storeKey?.reveal()).to.equal(KEY);
  });

  it('reads the key from the file NATS_STORE_KEY_FILE names, without its trailing newline', async () => {
    const file = join(dir, 'key');
    await writeFile(file, `${KEY}\n`, { mode: 0o600 });
    expect(loadConfig({ NATS_STORE_KEY_FILE: file }).nats.storeKey?.reveal()).to.equal(KEY);
  });

  it('refuses both variables at once', () => {
    const e = configErrorOf({ NATS_STORE_KEY: KEY, NATS_STORE_KEY_FILE: join(dir, 'key') });
    expect(e.variable).to.equal('NATS_STORE_KEY');
    expect(e.message).to.equal('NATS_STORE_KEY and NATS_STORE_KEY_FILE are both set; set one of them');
  });

  it('refuses a file that cannot be read, naming NATS_STORE_KEY_FILE and the reason', async () => {
    expect(configErrorOf({ NATS_STORE_KEY_FILE: join(dir, 'missing') }).message).to.equal(`NATS_STORE_KEY_FILE cannot be read: ENOENT (${join(dir, 'missing')})`);
    if (process.getuid?.() === 0) return; // root reads a 0000 file anyway
    const locked = join(dir, 'locked');
    await writeFile(locked, KEY);
    await chmod(locked, 0o000);
    expect(configErrorOf({ NATS_STORE_KEY_FILE: locked }).message).to.match(/^NATS_STORE_KEY_FILE cannot be read: EACCES/);
  });

  it('refuses an empty key file', async () => {
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    expect(configErrorOf({ NATS_STORE_KEY_FILE: empty }).message).to.equal(`NATS_STORE_KEY_FILE names an empty file (${empty})`);
  });

  it('refuses a key shorter than 32 characters without showing it', async () => {
    const short = 'tooshort-0123456789abcdef';
    const e = configErrorOf({ NATS_STORE_KEY: short });
    expect(e.message).to.equal(`NATS_STORE_KEY holds a key of ${short.length} characters; it must have at least 32 (e.g. openssl rand -hex 32)`);
    const file = join(dir, 'short');
    await writeFile(file, short);
    const fromFile = configErrorOf({ NATS_STORE_KEY_FILE: file });
    expect(fromFile.variable).to.equal('NATS_STORE_KEY_FILE');
    expect(fromFile.message).to.not.contain(short);
  });

  it('refuses characters a nats-server configuration string would need escaped, without showing the key', () => {
    const quoted = `${KEY.slice(0, 40)}"; key: "other`;
    const e = configErrorOf({ NATS_STORE_KEY: quoted });
    expect(e.message).to.match(/^NATS_STORE_KEY holds a key with characters other than letters, digits and \+ \/ = _ \. -/);
    expect(e.message).to.not.contain(KEY.slice(0, 40));
  });

  it('refuses a key together with NATS_URL, since no local server would use it', () => {
    const e = configErrorOf({ NATS_STORE_KEY: KEY, NATS_URL: 'nats://127.0.0.1:4222' });
    expect(e.variable).to.equal('NATS_STORE_KEY');
    expect(e.message).to.match(/^NATS_STORE_KEY is set together with NATS_URL: the key encrypts only the local nats-server/);
    expect(e.message).to.not.contain(KEY);
    expect(configErrorOf({ NATS_STORE_KEY_FILE: join(dir, 'missing'), NATS_URL: 'nats://127.0.0.1:4222' }).variable).to.equal('NATS_STORE_KEY_FILE');
  });
});
