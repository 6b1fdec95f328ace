import { expect } from 'chai';
import { table } from '../../bench/chaos/ledger.js';
import { limitTable, type LimitFigures } from '../../bench/chaos/limits.js';
import { CHAOS_AUDNEX_LIMITS, OWNER_FAULTS, runOwnerFaults, type OwnerFaultKind, type OwnerFaultReport } from '../../bench/chaos/ownerFaults.js';

describe('chaos suite, ownership faults (short)', function () {
  // Two service starts through tsx, then two faults of 12 s each and their processing.
  this.timeout(300_000);
  let report: OwnerFaultReport;
  let summary: string;

  before(async () => {
    // The shortest lease (DEP_OWNER_LEASE_MS=1000) keeps the 3 s pause within the 4 s an idle
    // connection to Audnex stays open, so the continued owner could send at once, without connecting.
    report = await runOwnerFaults({ faults: OWNER_FAULTS, durationMs: 12_000, rate: 6, leaseMs: 1000, settleTimeoutMs: 60_000 });
    summary = `${table(report.rows)}\n\n${limitTable(report.limits)}`;
  });

  const limitsOf = (fault: OwnerFaultKind): LimitFigures => {
    const l = report.limits.find((f) => f.fault === fault);
    expect(l, `${fault} ran\n${summary}`).to.not.equal(undefined);
    return l!;
  };

  const keepsAudnexWithinItsLimits = (fault: OwnerFaultKind) => {
    const l = limitsOf(fault);
    expect(l.newOwner, `${fault}: another instance took Audnex over\n${summary}`).to.be.a('string').and.not.equal(l.oldOwner);
    expect(l.firstCallMs, `${fault}: the new owner called Audnex\n${summary}`).to.be.a('number');
    expect(l.maxInFlight, `${fault}: Audnex calls in flight at once\n${summary}`).to.be.at.most(CHAOS_AUDNEX_LIMITS.concurrency);
    expect({ secondsOver: l.second.over, slotsOver: l.slot.over, outsideTerm: l.outsideTerm }, `${fault}\n${summary}`).to.deep.equal({
      secondsOver: 0,
      slotsOver: 0,
      outsideTerm: 0,
    });
  };

  const processesEveryWebhookOnce = (fault: OwnerFaultKind) => {
    const r = report.rows.find((f) => f.fault === fault);
    expect(r, `${fault} ran\n${summary}`).to.not.equal(undefined);
    expect(r!.acknowledged, `${fault}: something was acknowledged\n${summary}`).to.be.greaterThan(0);
    expect({ lost: r!.lost, deadLettered: r!.deadLettered, storedTwice: r!.storedTwice, notDone: r!.notDone, leftovers: r!.leftovers }, `${fault}\n${summary}`).to.deep.equal({
      lost: 0,
      deadLettered: {},
      storedTwice: 0,
      notDone: 0,
      leftovers: 0,
    });
  };

  it('pause-owner: hands Audnex to another instance, and the owner SIGSTOPped beyond its lease sends nothing once continued; Audnex stays within its rate and concurrency', () => {
    keepsAudnexWithinItsLimits('pause-owner');
  });

  it('pause-owner: processes every acknowledged webhook exactly once', () => {
    processesEveryWebhookOnce('pause-owner');
  });

  it('blackhole-owner: hands Audnex to another instance while the owner, cut off from NATS, still reaches Audnex; Audnex stays within its rate and concurrency', () => {
    keepsAudnexWithinItsLimits('blackhole-owner');
  });

  it('blackhole-owner: processes every acknowledged webhook exactly once', () => {
    processesEveryWebhookOnce('blackhole-owner');
  });
});
