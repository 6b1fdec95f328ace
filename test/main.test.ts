import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { freePort, isListening } from '../src/nats/localServer.js';
import { TestNats } from './helpers/natsServer.js';
import { ORDER_BODY, postWebhook } from './helpers/service.js';
import { waitFor } from './helpers/waitFor.js';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function startMain(env: Record<string, string | undefined>): { child: ChildProcess; output: () => string } {
  const base = { ...process.env };
  delete base.NATS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', main], { env: { ...base, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('main (the start command)', () => {
  it('stops at start with a message naming a bad variable', async () => {
    const { child, output } = startMain({ PORT: 'eighty' });
    expect(await exitOf(child)).to.equal(78);
    expect(output()).to.match(/configuration error: PORT must be an integer, got 'eighty'/);
  });

  it('starts its own nats-server without NATS_URL, serves in edge workers, and stops both on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'webhook-relay-main-'));
    const port = await freePort();
    const { child, output } = startMain({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', INGEST_WORKERS: '2' });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the service to be ready', async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: 20_000 });
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
    const { child, output } = startMain({ NATS_URL: nats.url, PORT: String(port), HOST: '127.0.0.1', INGEST_WORKERS: '1' });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor('the service to be ready', async () => (await fetch(`${base}/ready`)).status === 200, { timeoutMs: 20_000 });
      expect((await postWebhook(base, 'orders', ORDER_BODY)).status).to.equal(202);
      expect(output()).to.not.contain('local nats-server started');
      child.kill('SIGTERM');
      expect(await exitOf(child), output()).to.equal(0);
    } finally {
      child.kill('SIGKILL');
      await nats.dispose();
    }
  });
});
