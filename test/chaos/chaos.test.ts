import { expect } from 'chai';
import { table } from '../../bench/chaos/ledger.js';
import { SERVICE_FAULTS, runChaos } from '../../bench/chaos/run.js';

describe('chaos suite (short)', () => {
  it('loses nothing, stores nothing twice, leaves every status done and WEBHOOKS empty across a service SIGKILL, a nats-server SIGKILL and a SIGTERM', async function () {
    // Four service starts through tsx; on a busy 2-core machine each can take tens of seconds.
    this.timeout(300_000);
    const report = await runChaos({ faults: SERVICE_FAULTS, faultDurationMs: 3000, rate: 100, reconcileIntervalMs: 2000, settleTimeoutMs: 60_000, env: { LOG_LEVEL: 'error', INGEST_WORKERS: '1' } });
    const summary = table(report.rows);
    expect(report.rows.map((r) => r.fault), summary).to.deep.equal([...SERVICE_FAULTS]);
    for (const r of report.rows) {
      expect(r.acknowledged, `${r.fault}: something was acknowledged\n${summary}`).to.be.greaterThan(0);
      expect({ lost: r.lost, storedTwice: r.storedTwice, notDone: r.notDone, leftovers: r.leftovers }, `${r.fault}\n${summary}`).to.deep.equal({
        lost: 0,
        storedTwice: 0,
        notDone: 0,
        leftovers: 0,
      });
    }
    expect(report.ok).to.equal(true);
  });
});
