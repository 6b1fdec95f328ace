import { expect } from 'chai';
import { Kvm } from '@nats-io/kv';
import { freePort } from '../../src/nats/localServer.js';
import type { RunningService } from '../../src/service.js';
import { exitOf, startMain } from '../helpers/mainProcess.js';
import { TestNats } from '../helpers/natsServer.js';
import { ScriptedOrders, only } from '../helpers/pipelines.js';
import { inspector, ORDER_BODY, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { startMamStub, type MamStub } from '../stubs/mam.js';

/** `ACK_WAIT`: how soon a webhook a process holds comes back once that process is gone, and never while it lives. */
describe('ACK_WAIT: pulled webhooks come back in seconds, and only from a process that is gone', function () {
  this.timeout(90_000);
  let nats: TestNats;
  let inspect: Awaited<ReturnType<typeof inspector>>;
  beforeEach(async () => {
    nats = await TestNats.start();
    inspect = await inspector(nats);
  });
  afterEach(async () => {
    await inspect.nc.close();
    await nats.dispose();
  });

  it('sets each source consumer\'s ack_wait from ACK_WAIT', async () => {
    const service = await startTestService(nats, { ACK_WAIT: '2500ms' }, { edge: true, processing: true });
    try {
      const info = await inspect.jsm.consumers.info('WEBHOOKS', 'orders');
      expect(info.config.ack_wait).to.equal(2500 * 1_000_000);
    } finally {
      await service.stop(1000);
    }
  });

  it('keeps a webhook whose handler runs for three ack_waits, and one waiting for a slot as long, with the process that holds them: each delivered once', async () => {
    const orders = new ScriptedOrders();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    orders.gates.set('slow-1', gate);
    const service = await startTestService(nats, { ACK_WAIT: '1s', ORDERS_CONCURRENCY: '1' }, { edge: true, processing: true }, only(orders));
    try {
      for (const id of ['slow-1', 'slow-2']) expect((await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': id })).status).to.equal(202);
      await waitFor('both pulled: one running, one waiting for the slot', async () => (await inspect.jsm.consumers.info('WEBHOOKS', 'orders')).num_ack_pending === 2);
      const since = Date.now();
      // What is tested is time itself: three ack_waits of a real server's timer.
      await waitFor('three ack_waits to pass', () => Date.now() - since >= 3000, { timeoutMs: 10_000, intervalMs: 100 });
      release();
      await waitFor('both done', () => orders.calls.length >= 2 && orders.calls.some((c) => c.id === 'slow-2'));
      const info = await inspect.jsm.consumers.info('WEBHOOKS', 'orders');
      expect(orders.calls, 'each handled once, on its first delivery').to.deep.equal([
        { id: 'slow-1', delivery: 1 },
        { id: 'slow-2', delivery: 1 },
      ]);
      expect(info.num_redelivered, 'nothing redelivered').to.equal(0);
    } finally {
      await service.stop(1000);
    }
  });

  describe('after a SIGKILL', () => {
    let mam: MamStub;
    let survivor: RunningService | undefined;
    beforeEach(async () => {
      mam = await startMamStub();
    });
    afterEach(async () => {
      await survivor?.stop(1000);
      survivor = undefined;
      await mam.close();
    });

    it('the webhooks the dead process had pulled are done by another within ACK_WAIT and a lease, each delivered twice', async () => {
      const ackWaitMs = 2000;
      const leaseMs = 1000;
      const env = {
        NATS_URL: nats.url,
        ACK_WAIT: `${ackWaitMs}ms`,
        DEP_OWNER_LEASE_MS: String(leaseMs),
        MAM_URL: mam.url,
        MAM_ID: mam.openSession(),
        MAM_RATE: '50',
        RETRY_BACKOFF: '100ms',
      };
      // MAM holds every search open: the process that pulled them is stuck in its handlers.
      mam.server.setMode({ kind: 'hang' });
      const port = await freePort();
      const doomed = startMain({ ...env, PORT: String(port), INSTANCE_ID: 'doomed', INGEST_WORKERS: '1' });
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitFor('the doomed process ready', async () => (await fetch(`${base}/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000 });
        const ids = ['held-1', 'held-2', 'held-3'];
        for (const id of ids) expect((await postWebhook(base, 'audiobooks', { title: 'Project Hail Mary' }, { 'webhook-id': id })).status).to.equal(202);
        await waitFor('all three pulled by the doomed process', async () => (await inspect.jsm.consumers.info('WEBHOOKS', 'audiobooks')).num_ack_pending === 3);
        await waitFor('its first search at MAM', () => mam.server.calls.length >= 1);

        survivor = await startTestService(nats, { ...env, INSTANCE_ID: 'survivor' }, { edge: false, processing: true });
        mam.server.setMode({ kind: 'ok' });
        doomed.child.kill('SIGKILL');
        await exitOf(doomed.child);
        const killedAt = Date.now();

        const status = await new Kvm(inspect.nc).open('webhook-status');
        const done = await waitFor(
          'every held webhook done by the survivor',
          async () => {
            const all = await Promise.all(ids.map(async (id) => (await status.get(`audiobooks.${id}`))?.json<{ status: string; deliveries: number }>()));
            return all.every((s) => s?.status === 'done') ? all : undefined;
          },
          // Far below the 30 s an ack_wait of old took; well above ACK_WAIT + a lease on a busy machine.
          { timeoutMs: ackWaitMs + leaseMs + 10_000, intervalMs: 100 },
        );
        const tookMs = Date.now() - killedAt;
        expect(done.map((s) => s!.deliveries), `each came back once (${tookMs} ms after the SIGKILL)`).to.deep.equal([2, 2, 2]);
      } finally {
        doomed.child.kill('SIGKILL');
      }
    });
  });
});
