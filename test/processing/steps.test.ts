import { expect } from 'chai';
import { Kvm } from '@nats-io/kv';
import { freePort } from '../../src/nats/localServer.js';
import type { RunningService } from '../../src/service.js';
import type { SourceHandler } from '../../src/processing/handler.js';
import { ServiceError } from '../../src/errors/serviceError.js';
import { unprocessable } from '../../src/processing/processingError.js';
import { exitOf, startMain } from '../helpers/mainProcess.js';
import { TestNats } from '../helpers/natsServer.js';
import { only } from '../helpers/pipelines.js';
import { inspector, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import { startMamStub, type MamStub } from '../stubs/mam.js';
import type { StubServer } from '../stubs/stubServer.js';

type Status = { status: string; deliveries: number; seq: number };

/** Durable steps: a redelivery replays what finished and calls only the rest. */
describe('durable steps (webhook-steps)', function () {
  this.timeout(90_000);
  let nats: TestNats;
  let inspect: Awaited<ReturnType<typeof inspector>>;
  let service: RunningService | undefined;
  beforeEach(async () => {
    nats = await TestNats.start();
    inspect = await inspector(nats);
  });
  afterEach(async () => {
    await service?.stop(1000);
    service = undefined;
    await inspect.nc.close();
    await nats.dispose();
  });

  const statusOf = async (source: string, id: string) => (await (await new Kvm(inspect.nc).open('webhook-status')).get(`${source}.${id}`))?.json<Status>();
  const settled = (source: string, id: string, want = ['done', 'dead']) =>
    waitFor(`${source}/${id} settled`, async () => {
      const s = await statusOf(source, id);
      return s && want.includes(s.status) ? s : undefined;
    }, { timeoutMs: 30_000, intervalMs: 50 });

  describe('audiobooks against Audnex and MAM stubs', () => {
    let audnex: StubServer;
    let mam: MamStub;
    beforeEach(async () => {
      audnex = await startAudnexStub();
      mam = await startMamStub();
    });
    afterEach(async () => {
      await audnex.close();
      await mam.close();
    });
    const env = () => ({
      AUDNEX_URL: audnex.url,
      AUDNEX_RATE: '100',
      AUDNEX_BURST: '10',
      MAM_URL: mam.url,
      MAM_ID: mam.openSession(),
      MAM_RATE: '100',
      MAM_BURST: '10',
      MAM_BREAKER_THRESHOLD: '100',
      RETRY_BACKOFF: '50ms',
      MAX_DELIVER: '10',
    });
    const audnexCallsFor = (asin: string) => audnex.calls.filter((c) => c.path.includes(asin)).length;

    it('MAM failing three times then answering: Audnex sees exactly one call per webhook, MAM four', async () => {
      service = await startTestService(nats, env(), { edge: true, processing: true });
      mam.server.failNext({ kind: 'status', status: 500 }, 3);
      expect((await postWebhook(service.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'book-1' })).status).to.equal(202);
      const s = await settled('audiobooks', 'book-1');
      expect(s).to.include({ status: 'done', deliveries: 4 });
      expect(audnexCallsFor(PROJECT_HAIL_MARY.asin), 'Audnex calls').to.equal(1);
      expect(mam.server.calls.length, 'MAM calls').to.equal(4);
    });

    it('a permanent failure after a finished step dead-letters at once, naming the step; a replay starts clean, one with ?resume=true keeps it', async () => {
      service = await startTestService(nats, { ...env(), ADMIN_TOKEN: 'admin-token-of-the-test' }, { edge: true, processing: true });
      mam.server.failNext({ kind: 'status', status: 400 }, 1);
      await postWebhook(service.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'book-2' });
      expect(await settled('audiobooks', 'book-2')).to.include({ status: 'dead', deliveries: 1 });
      const auth = { authorization: 'Bearer admin-token-of-the-test' };
      const page = await waitFor('the dead letter', async () => {
        const list = (await (await fetch(`${service!.url}/dead-letters`, { headers: auth })).json()) as { items: { seq: number }[] };
        return list.items[0];
      });
      const letter = (await (await fetch(`${service.url}/dead-letters/${page.seq}`, { headers: auth })).json()) as { headers: Record<string, string> };
      expect(letter.headers['Dlq-Steps-Done']).to.equal('audnex.getBook');

      // Replayed clean: Audnex is called again.
      expect((await fetch(`${service.url}/dead-letters/${page.seq}/replay`, { method: 'POST', headers: auth })).status).to.equal(200);
      await waitFor('replayed clean and done', async () => (await statusOf('audiobooks', 'book-2'))?.status === 'done');
      expect(audnexCallsFor(PROJECT_HAIL_MARY.asin), 'Audnex calls after a clean replay').to.equal(2);

      // Dead again after the first step; resumed: Audnex is not called again.
      mam.server.failNext({ kind: 'status', status: 400 }, 1);
      await postWebhook(service.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'book-3' });
      expect(await settled('audiobooks', 'book-3')).to.include({ status: 'dead' });
      const second = await waitFor('its dead letter', async () => {
        const list = (await (await fetch(`${service!.url}/dead-letters`, { headers: auth })).json()) as { items: { seq: number }[] };
        return list.items[0];
      });
      expect((await fetch(`${service.url}/dead-letters/${second.seq}/replay?resume=true`, { method: 'POST', headers: auth })).status).to.equal(200);
      await waitFor('resumed and done', async () => (await statusOf('audiobooks', 'book-3'))?.status === 'done');
      expect(audnexCallsFor(PROJECT_HAIL_MARY.asin), 'Audnex calls after a resumed replay').to.equal(3);
    });

    it('across a SIGKILL between the steps: Audnex sees one call per webhook', async () => {
      const base = { ...env(), NATS_URL: nats.url, ACK_WAIT: '2s', DEP_OWNER_LEASE_MS: '1000' };
      // MAM holds every search open: the doomed process dies between Audnex and MAM.
      mam.server.setMode({ kind: 'hang' });
      const port = await freePort();
      const doomed = startMain({ ...base, PORT: String(port), INSTANCE_ID: 'doomed', INGEST_WORKERS: '1' });
      try {
        const url = `http://127.0.0.1:${port}`;
        await waitFor('the doomed process ready', async () => (await fetch(`${url}/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 30_000 });
        expect((await postWebhook(url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'book-k' })).status).to.equal(202);
        await waitFor('its search at MAM', () => mam.server.calls.length >= 1);
        expect(audnexCallsFor(PROJECT_HAIL_MARY.asin)).to.equal(1);
        service = await startTestService(nats, { ...base, INSTANCE_ID: 'survivor' }, { edge: false, processing: true });
        mam.server.setMode({ kind: 'ok' });
        doomed.child.kill('SIGKILL');
        await exitOf(doomed.child);
        expect(await settled('audiobooks', 'book-k')).to.include({ status: 'done', deliveries: 2 });
        expect(audnexCallsFor(PROJECT_HAIL_MARY.asin), 'Audnex calls').to.equal(1);
      } finally {
        doomed.child.kill('SIGKILL');
      }
    });
  });

  describe('what is journaled', () => {
    /** A pipeline of two steps over two dependencies: `first` with the input `inputOf` gives, then `second`, failing while `failures` lasts. */
    function twoSteps(o: { inputOf: (delivery: number) => string; failures: number; needs?: readonly ('audnex' | 'mam')[] }) {
      const calls = { first: 0, second: 0 };
      let failures = o.failures;
      const handler: SourceHandler = {
        source: 'orders',
        needs: o.needs ?? ['audnex', 'mam'],
        async handle(_payload, _deps, meta) {
          const first = await meta.step('first', o.inputOf(meta.deliveryCount), async (input) => {
            calls.first++;
            return { looked: input };
          });
          await meta.step('second', first, async () => {
            calls.second++;
            if (failures-- > 0) throw new ServiceError('TEST_DOWNSTREAM_DOWN', 'second step down', { retriable: true });
            if (failures < -5) throw unprocessable('never');
          });
          return [{ key: meta.id, value: first }];
        },
      };
      return { handler, calls };
    }
    const ORDER = { embeds: [{ description: 'Order Number\nSTEP-1' }] };

    it('ignores a journaled step whose input has changed', async () => {
      const { handler, calls } = twoSteps({ inputOf: (d) => `input of delivery ${d}`, failures: 2 });
      service = await startTestService(nats, { RETRY_BACKOFF: '50ms' }, { edge: true, processing: true }, only(handler));
      await postWebhook(service.url, 'orders', ORDER, { 'webhook-id': 'changing' });
      expect(await settled('orders', 'changing')).to.include({ status: 'done', deliveries: 3 });
      expect(calls).to.deep.equal({ first: 3, second: 3 });
    });

    it('replays a journaled step with the same input', async () => {
      const { handler, calls } = twoSteps({ inputOf: () => 'the same', failures: 2 });
      service = await startTestService(nats, { RETRY_BACKOFF: '50ms' }, { edge: true, processing: true }, only(handler));
      await postWebhook(service.url, 'orders', ORDER, { 'webhook-id': 'same' });
      expect(await settled('orders', 'same')).to.include({ status: 'done', deliveries: 3 });
      expect(calls).to.deep.equal({ first: 1, second: 3 });
    });

    it('journals nothing for a pipeline of one dependency', async () => {
      const { handler, calls } = twoSteps({ inputOf: () => 'the same', failures: 2, needs: ['audnex'] });
      service = await startTestService(nats, { RETRY_BACKOFF: '50ms' }, { edge: true, processing: true }, only(handler));
      await postWebhook(service.url, 'orders', ORDER, { 'webhook-id': 'single' });
      expect(await settled('orders', 'single')).to.include({ status: 'done', deliveries: 3 });
      expect(calls).to.deep.equal({ first: 3, second: 3 });
      const keys: string[] = [];
      for await (const k of await (await new Kvm(inspect.nc).open('webhook-steps')).keys()) keys.push(k);
      expect(keys).to.deep.equal([]);
    });
  });
});
