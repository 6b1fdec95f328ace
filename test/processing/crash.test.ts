import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Kvm } from '@nats-io/kv';
import { freePort } from '../../src/nats/localServer.js';
import { TestNats } from '../helpers/natsServer.js';
import { inspector } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { childEnv } from '../helpers/testEnv.js';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

function startMain(natsUrl: string, port: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', main], {
    env: childEnv({ NATS_URL: natsUrl, PORT: String(port), INGEST_WORKERS: '1' }),
    stdio: 'ignore',
  });
}

describe('a service killed mid-burst', () => {
  it('processes every acknowledged webhook exactly once after a restart', async function () {
    this.timeout(120_000);
    const nats = await TestNats.start();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let child = startMain(nats.url, port);
    const { nc } = await inspector(nats);
    try {
      await waitFor('ready', async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000 });
      const acked: string[] = [];
      let next = 0;
      let killed = false;
      const sender = async () => {
        while (next < 3000 && !killed) {
          const n = next++;
          const res = await fetch(`${base}/webhooks/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'webhook-id': `crash-${n}` },
            body: JSON.stringify({ embeds: [{ description: `Product\nThing\nOrder Number\nCRASH-${n}` }] }),
          }).catch(() => undefined);
          if (res?.status === 202) acked.push(`crash-${n}`);
        }
      };
      const senders = Array.from({ length: 20 }, sender);
      await waitFor('a third acknowledged', () => acked.length >= 1000, { timeoutMs: 60_000 });
      child.kill('SIGKILL');
      killed = true;
      await once(child, 'exit');
      await Promise.all(senders);

      child = startMain(nats.url, port);
      const status = await new Kvm(nc).open('webhook-status');
      const orders = await new Kvm(nc).open('orders');
      await waitFor(
        'every acknowledged webhook done',
        async () => {
          for (const id of acked) {
            const e = await status.get(`orders.${id}`);
            if (e?.json<{ status: string }>().status !== 'done') return false;
          }
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const keys: string[] = [];
      for await (const k of await orders.keys()) keys.push(k);
      expect(new Set(keys).size).to.equal(keys.length);
      for (const id of acked) {
        const e = await orders.get(id.replace('crash-', 'CRASH-'));
        expect(e?.json<{ webhookId: string }>().webhookId, id).to.equal(id);
      }
      expect(keys.length).to.be.at.least(acked.length);
    } finally {
      child.kill('SIGKILL');
      await nc.close();
      await nats.dispose();
    }
  });
});
