import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort, isListening } from '../src/nats/localServer.js';
import { exitOf, startMain } from './helpers/mainProcess.js';
import { TestNats } from './helpers/natsServer.js';
import { ORDER_BODY, postWebhook } from './helpers/service.js';
import { waitFor } from './helpers/waitFor.js';

/** Start-up alone (tsx compiling the service, per process) takes tens of seconds on a loaded machine. */
const START_MS = 60_000;

describe('main (the start command)', function () {
  this.timeout(3 * START_MS);

  it('stops at start with a message naming a bad variable', async () => {
    const { child, output } = startMain({ PORT: 'eighty' });
    expect(await exitOf(child)).to.equal(78);
    expect(output()).to.match(/configuration error: PORT must be an integer, got 'eighty'/);
  });

  it('starts its own nats-server without NATS_URL, serves in edge processes, and stops both on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'webhook-relay-main-'));
    const port = await freePort();
    const { child, output } = startMain({ DATA_DIR: dataDir, PORT: String(port), INGEST_WORKERS: '2' });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the service to be ready', async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: START_MS });
      const res = await postWebhook(base, 'orders', ORDER_BODY, { 'webhook-id': 'main-1' });
      expect(res.status, output()).to.equal(202);
      const natsUrl = (await readFile(join(dataDir, 'nats.url'), 'utf8')).trim();
      const natsPort = Number(natsUrl.split(':').pop());
      expect(await isListening('127.0.0.1', natsPort)).to.equal(true);

      child.kill('SIGTERM');
      expect(await exitOf(child), output()).to.equal(0);
      expect(await isListening('127.0.0.1', natsPort)).to.equal(false);
      expect(await isListening('127.0.0.1', port)).to.equal(false);
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('uses NATS_URL when set and exits 0 on SIGTERM', async () => {
    const nats = await TestNats.start();
    const port = await freePort();
    const { child, output } = startMain({ NATS_URL: nats.url, PORT: String(port), INGEST_WORKERS: '1' });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the service to be ready', async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: START_MS });
      expect((await postWebhook(base, 'orders', ORDER_BODY)).status).to.equal(202);
      expect(output()).to.not.contain('local nats-server started');
      child.kill('SIGTERM');
      expect(await exitOf(child), output()).to.equal(0);
    } finally {
      child.kill('SIGKILL');
      await nats.dispose();
    }
  });

  it('encrypts its local store with NATS_STORE_KEY, with edge processes, and hands the key to no child process', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'webhook-relay-main-'));
    const port = await freePort();
    const key = 'c0ffee17d25e48b6a0c4e7d1b9f28a6035c1e9d74b2a8f60c3e51d9a7b0f4c28';
    const { child, output } = startMain({ DATA_DIR: dataDir, PORT: String(port), INGEST_WORKERS: '2', NATS_STORE_KEY: key });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the service to be ready', async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: START_MS });
      expect((await postWebhook(base, 'orders', ORDER_BODY, { 'webhook-id': 'main-keyed-1' })).status, output()).to.equal(202);
      expect(output()).to.match(/"storeEncryption":"chachapoly".*"msg":"local nats-server started"/);

      // The local nats-server and both edge processes: neither their environment nor their command line holds the key.
      const children = (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).trim().split(/\s+/);
      expect(children.length, output()).to.be.at.least(3);
      for (const pid of children) {
        const [environ, cmdline] = await Promise.all([readFile(`/proc/${pid}/environ`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
        expect(environ, `process ${pid}`).to.not.contain(key);
        expect(cmdline, `process ${pid}`).to.not.contain(key);
      }

      child.kill('SIGTERM');
      expect(await exitOf(child), output()).to.equal(0);
      expect(output()).to.not.contain(key);
    } finally {
      child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('stops with exit code 78 when NATS_STORE_KEY is set together with NATS_URL', async () => {
    const { child, output } = startMain({ NATS_URL: 'nats://127.0.0.1:1', NATS_STORE_KEY: 'c0ffee17d25e48b6a0c4e7d1b9f28a6035c1e9d7' });
    expect(await exitOf(child)).to.equal(78);
    expect(output()).to.match(/configuration error: NATS_STORE_KEY is set together with NATS_URL: the key encrypts only the local nats-server/);
  });

  describe('with PORT already taken', () => {
    let nats: TestNats;
    const blocker = createServer();
    let port: number;

    before(async () => {
      nats = await TestNats.start();
      port = await freePort();
      await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    });
    after(async () => {
      await new Promise((r) => blocker.close(r));
      await nats?.dispose();
    });

    for (const workers of ['1', '2']) {
      it(`exits non-zero with a message naming PORT (INGEST_WORKERS=${workers})`, async () => {
        const { child, output } = startMain({ NATS_URL: nats.url, PORT: String(port), HOST: '127.0.0.1', INGEST_WORKERS: workers });
        try {
          const code = await Promise.race([exitOf(child), new Promise<'running'>((r) => setTimeout(() => r('running'), START_MS).unref())]);
          expect(code, output()).to.not.equal('running');
          expect(code, output()).to.equal(78);
          expect(output()).to.match(new RegExp(`configuration error: PORT ${port} .*already in use`));
        } finally {
          child.kill('SIGKILL');
        }
      });
    }
  });
});
