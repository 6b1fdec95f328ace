import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { encryptedStreams, KEYED_CONFIG_FILE, writeKeyedConfig } from '../../src/nats/storeEncryption.js';

const projectConf = fileURLToPath(new URL('../../nats.conf', import.meta.url));
const KEY = 'c0ffee17d25e48b6a0c4e7d1b9f28a6035c1e9d74b2a8f60c3e51d9a7b0f4c28';

describe('storeEncryption', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webhook-relay-keyed-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('writeKeyedConfig', () => {
    it('writes nats.conf with cipher and key inside its jetstream block, readable by its owner only', async () => {
      // An older file another user could read must not lend the new one its mode.
      await writeFile(join(dir, KEYED_CONFIG_FILE), 'old', { mode: 0o644 });
      const path = await writeKeyedConfig(projectConf, dir, KEY);
      expect(path).to.equal(join(dir, KEYED_CONFIG_FILE));
      expect((await stat(path)).mode & 0o777).to.equal(0o600);
      const text = await readFile(path, 'utf8');
      expect(text).to.match(/^jetstream \{\n {2}cipher: chachapoly\n {2}key: "c0ffee17[0-9a-f]+"\n {2}max_memory_store: 256MB/m);
      expect(text).to.contain('max_payload: 4MB');
    });

    it('refuses a configuration without exactly one jetstream block', async () => {
      const plain = join(dir, 'plain.conf');
      await writeFile(plain, 'listen: 127.0.0.1:4222\n');
      const e = await writeKeyedConfig(plain, dir, KEY).catch((err: unknown) => err as Error);
      expect(e).to.be.instanceOf(Error);
      expect((e as Error).message).to.equal(`${plain} must have exactly one 'jetstream {' block to add the store key to, found 0`);
    });
  });

  describe('encryptedStreams', () => {
    it('names the streams that have a meta.key and nothing for a missing store', async () => {
      expect(await encryptedStreams(join(dir, 'missing'))).to.deep.equal([]);
      const streams = join(dir, 'jetstream', '$G', 'streams');
      for (const [name, keyed] of [['WEBHOOKS', true], ['KV_orders', false]] as const) {
        await mkdir(join(streams, name), { recursive: true });
        await writeFile(join(streams, name, 'meta.inf'), '{}');
        if (keyed) await writeFile(join(streams, name, 'meta.key'), 'k');
      }
      expect(await encryptedStreams(dir)).to.deep.equal(['WEBHOOKS']);
    });
  });
});
