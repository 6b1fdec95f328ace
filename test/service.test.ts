import { expect } from 'chai';
import type { RunningService } from '../src/service.js';
import { TestNats } from './helpers/natsServer.js';
import { inspector, startTestService } from './helpers/service.js';

describe('startService', () => {
  let nats: TestNats;
  let service: RunningService;

  before(async () => {
    nats = await TestNats.start();
  });

  after(async () => {
    await service?.stop();
    await nats?.dispose();
  });

  it('creates the sessions bucket with the others as soon as NATS is ready, before MAM is used', async () => {
    service = await startTestService(nats);
    const { jsm, nc } = await inspector(nats);
    try {
      const names = new Set<string>();
      for await (const s of jsm.streams.list()) names.add(s.config.name);
      expect([...names]).to.include.members(['KV_webhook-status', 'KV_orders', 'KV_sessions']);
      expect((await jsm.streams.info('KV_sessions')).config.max_msgs_per_subject).to.equal(1);
    } finally {
      await nc.close();
    }
  });
});
