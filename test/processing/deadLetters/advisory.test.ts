import { expect } from 'chai';
import { parseAdvisory, reasonOf } from '../../../src/processing/deadLetters/advisory.js';

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseAdvisory', () => {
  it('reads a MAX_DELIVERIES advisory', () => {
    const r = parseAdvisory(enc({ type: 'io.nats.jetstream.advisory.v1.max_deliver', id: 'x', timestamp: 't', stream: 'WEBHOOKS', consumer: 'orders', stream_seq: 42, deliveries: 5 }));
    expect(r.ok).to.equal(true);
    if (r.ok) {
      expect(r.advisory.stream_seq).to.equal(42);
      expect(reasonOf(r.advisory)).to.equal('max_deliveries');
    }
  });

  it('reads a MSG_TERMINATED advisory', () => {
    const r = parseAdvisory(enc({ type: 'io.nats.jetstream.advisory.v1.terminated', stream: 'WEBHOOKS', consumer: 'pages', consumer_seq: 3, stream_seq: 7, deliveries: 1 }));
    expect(r.ok && reasonOf(r.advisory)).to.equal('terminated');
  });

  it('refuses anything else with a reason', () => {
    expect(parseAdvisory(enc('not json'))).to.deep.equal({ ok: false, reason: 'not JSON' });
    const r = parseAdvisory(enc({ type: 'io.nats.jetstream.advisory.v1.max_deliver', stream: 'WEBHOOKS', consumer: 'orders' }));
    expect(r.ok).to.equal(false);
    expect(!r.ok && r.reason).to.contain('stream_seq');
  });
});
