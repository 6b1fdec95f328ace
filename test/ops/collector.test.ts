import { expect } from 'chai';
import { ProcessingCollector } from '../../src/ops/collector.js';
import { OpsMetrics } from '../../src/ops/metrics.js';

const base = { source: 'orders', id: 'a', deliveries: 1, at: 0 };

describe('ProcessingCollector', () => {
  it('counts each delivery once by how it ended', async () => {
    const metrics = new OpsMetrics();
    const c = new ProcessingCollector(metrics);
    c.onProcessing({ type: 'webhook.processing', ...base, seq: 1 });
    expect((await c.totals()).sources.orders!.inFlight).to.equal(1);
    c.onProcessing({ type: 'webhook.retrying', ...base, seq: 1, code: 'X', durationMs: 10, delayMs: 50 });
    c.onProcessing({ type: 'webhook.processing', ...base, seq: 1, deliveries: 2 });
    c.onProcessing({ type: 'webhook.done', ...base, seq: 1, deliveries: 2, durationMs: 30 });
    const t = await c.totals();
    expect(t.sources.orders).to.deep.equal({ deliveries: 2, processed: 1, failed: 1, retried: 1, deadLettered: 0, inFlight: 0 });
    expect(t.avgProcessingMs).to.equal(20);
    expect(t.p99ProcessingMs).to.equal(30);
    expect((await metrics.processingOutcomes.get()).values.map((v) => [v.labels.outcome, v.value])).to.deep.equal([
      ['retrying', 1],
      ['done', 1],
    ]);
  });

  it('counts a permanent failure as a failed delivery and a dead letter', async () => {
    const c = new ProcessingCollector(new OpsMetrics());
    c.onProcessing({ type: 'webhook.processing', ...base, seq: 2 });
    c.onProcessing({ type: 'webhook.deadLettered', ...base, seq: 2, code: 'P', durationMs: 0, reason: 'terminated' });
    expect((await c.totals()).sources.orders).to.include({ failed: 1, retried: 0, deadLettered: 1, inFlight: 0 });
  });

  it('counts the mover dead-lettering an exhausted webhook without another failed delivery', async () => {
    const c = new ProcessingCollector(new OpsMetrics());
    c.onProcessing({ type: 'webhook.processing', ...base, seq: 3, deliveries: 2 });
    c.onProcessing({ type: 'webhook.failed', ...base, seq: 3, deliveries: 2, code: 'X', durationMs: 5 });
    c.onProcessing({ type: 'webhook.deadLettered', ...base, seq: 3, deliveries: 2, code: 'X', durationMs: 0, reason: 'max_deliveries' });
    expect((await c.totals()).sources.orders).to.include({ deliveries: 1, failed: 1, deadLettered: 1, inFlight: 0 });
  });

  it('lists known sources before their first webhook', async () => {
    const c = new ProcessingCollector(new OpsMetrics());
    expect(Object.keys((await c.totals(['orders', 'pages'])).sources)).to.deep.equal(['orders', 'pages']);
    expect((await c.totals()).avgProcessingMs).to.equal(null);
  });

  it('turns dependency events into breaker, wait and call metrics', async () => {
    const metrics = new OpsMetrics();
    const c = new ProcessingCollector(metrics);
    const at = 0;
    c.onDependency({ type: 'dep.transition', dependency: 'audnex', from: 'closed', to: 'open', reason: 'r', at, queueLength: 0, inFlight: 0, nextProbeAt: 1 });
    c.onDependency({ type: 'dep.waiting', dependency: 'audnex', reason: 'rateLimit', until: 5, queueLength: 1, at });
    c.onDependency({ type: 'dep.callSettled', dependency: 'audnex', callId: '1', outcome: 'failed', code: 'DEP_TIMEOUT', durationMs: 250, at });
    expect((await metrics.breakerTransitions.get()).values[0]).to.deep.include({ labels: { dependency: 'audnex', from: 'closed', to: 'open' }, value: 1 });
    expect((await metrics.rateLimitWaits.get()).values[0]).to.deep.include({ labels: { dependency: 'audnex', reason: 'rateLimit' }, value: 1 });
    const count = (await metrics.dependencyCallDuration.get()).values.find((v) => v.metricName?.endsWith('_count'));
    expect(count).to.deep.include({ labels: { dependency: 'audnex', outcome: 'failed', code: 'DEP_TIMEOUT' }, value: 1 });
  });
});
