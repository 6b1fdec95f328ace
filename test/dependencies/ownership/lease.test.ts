import { expect } from 'chai';
import sinon from 'sinon';
import { DependencyLease, type DependencyLeaseOptions, type LeaseStore, type LeaseValue } from '../../../src/dependencies/ownership/lease.js';
import { MemoryKv } from '../../helpers/memoryKv.js';

/** The shared store as one instance sees it; `cut` makes every call fail like a partition. */
function view(kv: MemoryKv): LeaseStore & { cut: boolean } {
  const v = {
    cut: false,
    guard<T>(f: () => Promise<T>): Promise<T> {
      return v.cut ? Promise.reject(new Error('TIMEOUT')) : f();
    },
    get: () => v.guard(() => kv.get()),
    create: (k: string, value: string) => v.guard(() => kv.create(k, value)),
    update: (k: string, value: string, r: number) => v.guard(() => kv.update(k, value, r)),
    delete: (k: string, o?: { previousSeq?: number }) => v.guard(() => kv.delete(k, o)),
  };
  return v;
}

const LEASE = 9000;
const POLL = 900;

describe('DependencyLease', () => {
  let clock: sinon.SinonFakeTimers;
  let kv: MemoryKv;
  const leases: DependencyLease[] = [];

  function lease(instance: string, store: LeaseStore = kv, extra: Partial<DependencyLeaseOptions> = {}): DependencyLease {
    const l = new DependencyLease({ key: 'audnex', instance, store, leaseMs: LEASE, ...extra });
    leases.push(l);
    return l;
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers();
    kv = new MemoryKv();
  });

  afterEach(() => {
    for (const l of leases.splice(0)) l.stop();
    clock.restore();
  });

  it('takes a free lease at once and names itself in the value', async () => {
    const acquired: number[] = [];
    const a = lease('a', kv, { onAcquired: (t) => acquired.push(t) });
    expect(a.isOwner).to.equal(false);
    expect(a.signal.aborted).to.equal(true);
    a.start();
    await clock.tickAsync(0);
    expect(a.isOwner).to.equal(true);
    expect(a.signal.aborted).to.equal(false);
    expect(acquired).to.deep.equal([a.token]);
    const v = (await kv.get())!.json<LeaseValue>();
    expect(v).to.include({ instance: 'a', leaseMs: LEASE });
    expect(Date.parse(v.expiresAt) - Date.parse(v.renewedAt)).to.equal(LEASE);
  });

  it('keeps the lease by renewing every third of it, with the same fencing token', async () => {
    const a = lease('a');
    a.start();
    await clock.tickAsync(0);
    const token = a.token;
    const first = a.revision!;
    await clock.tickAsync(LEASE * 5);
    expect(a.isOwner).to.equal(true);
    expect(a.token).to.equal(token);
    expect(a.revision).to.be.at.least(first + 14);
  });

  it('gives the lease to exactly one of two instances that start together', async () => {
    const a = lease('a');
    const b = lease('b');
    a.start();
    b.start();
    for (let t = 0; t < LEASE * 3; t += 100) {
      await clock.tickAsync(100);
      expect(Number(a.isOwner) + Number(b.isOwner), `at ${t} ms`).to.equal(1);
    }
  });

  it('lets a contender take over a silent holder only after a whole lease on its own clock', async () => {
    const a = lease('a');
    a.start();
    await clock.tickAsync(0);
    a.stop(); // crashed: no renewal, no release
    const b = lease('b');
    b.start();
    await clock.tickAsync(0); // b first sees a's revision now
    await clock.tickAsync(LEASE - 1);
    expect(b.isOwner).to.equal(false);
    await clock.tickAsync(POLL + 1);
    expect(b.isOwner).to.equal(true);
    expect(kv.holder()).to.equal('b');
  });

  it('stops a holder that cannot renew before half its lease, aborts its calls, and never overlaps the next owner', async () => {
    const aStore = view(kv);
    const lost: { reason: string; at: number }[] = [];
    const a = lease('a', aStore, { onLost: (reason) => lost.push({ reason, at: Date.now() }) });
    a.start();
    await clock.tickAsync(0);
    const inFlight = a.signal;
    await clock.tickAsync(LEASE); // a few renewals
    aStore.cut = true;
    const cutAt = Date.now();
    const b = lease('b');
    b.start();
    let bOwnerAt: number | undefined;
    for (let t = 0; t < LEASE * 3 && bOwnerAt === undefined; t += 50) {
      await clock.tickAsync(50);
      expect(a.isOwner && b.isOwner, `both owners at ${t} ms`).to.equal(false);
      if (b.isOwner) bOwnerAt = Date.now();
    }
    expect(lost).to.have.length(1);
    expect(lost[0]!.reason).to.equal('renewal overdue');
    expect(lost[0]!.at - cutAt).to.be.at.most(LEASE * 0.5);
    expect(inFlight.aborted).to.equal(true);
    expect(String(inFlight.reason)).to.contain('lease of audnex lost');
    expect(bOwnerAt! - lost[0]!.at).to.be.at.least(LEASE * 0.5);
  });

  it('fences off a stale holder: its renewal fails after a takeover and it reports the loss', async () => {
    const lost: string[] = [];
    const a = lease('a', kv, { onLost: (r) => lost.push(r) });
    a.start();
    await clock.tickAsync(0);
    const staleToken = a.token!;
    // Another instance wins the CAS on a's revision (as after a takeover).
    const newToken = await kv.update('audnex', JSON.stringify({ instance: 'b' }), a.revision!);
    await clock.tickAsync(LEASE / 3);
    expect(a.isOwner).to.equal(false);
    expect(lost).to.deep.equal(['fenced: another instance holds the lease']);
    expect(newToken).to.be.greaterThan(staleToken);
    expect(kv.holder()).to.equal('b');
  });

  it('hands over at once on a clean release', async () => {
    const a = lease('a');
    a.start();
    await clock.tickAsync(0);
    const b = lease('b');
    b.start();
    await clock.tickAsync(POLL * 2);
    expect(b.isOwner).to.equal(false);
    const signal = a.signal;
    await a.release();
    expect(signal.aborted).to.equal(true);
    await clock.tickAsync(POLL + 1);
    expect(b.isOwner).to.equal(true);
    expect(kv.holder()).to.equal('b');
  });

  it('never has two owners when their lease lengths differ, as in a rolling deploy that changes DEP_OWNER_LEASE_MS', async () => {
    const aStore = view(kv);
    const mismatches: unknown[] = [];
    const a = lease('a', aStore, { leaseMs: 9000 });
    a.start();
    await clock.tickAsync(0);
    await clock.tickAsync(3000); // a renewal
    const b = lease('b', kv, { leaseMs: 1000, onLeaseMismatch: (holder) => mismatches.push(holder) });
    b.start();
    aStore.cut = true; // a goes silent, still owner for half its own lease after its last renewal
    let bOwnerAt: number | undefined;
    for (let t = 0; t < 20_000 && bOwnerAt === undefined; t += 50) {
      await clock.tickAsync(50);
      expect(a.isOwner && b.isOwner, `both owners at ${t} ms`).to.equal(false);
      if (b.isOwner) bOwnerAt = t;
    }
    expect(bOwnerAt, 'b took over, after the longer lease').to.be.at.least(9000 - 3000);
    expect(mismatches).to.deep.equal([{ instance: 'a', leaseMs: 9000 }]);
  });

  it('stops counting itself owner when the wall clock ran on while the monotonic clock stood still (a suspended machine)', async () => {
    let suspendedFor = 0;
    const lost: string[] = [];
    // The monotonic clock skips what the machine slept through; the wall clock does not.
    const a = lease('a', kv, { now: () => performance.now() - suspendedFor, onLost: (r) => lost.push(r) });
    a.start();
    await clock.tickAsync(0);
    expect(a.isOwner).to.equal(true);
    suspendedFor = 20_000;
    clock.setSystemTime(Date.now() + 20_000);
    expect(a.isOwner, 'owner right after the resume').to.equal(false);
    expect(a.check()).to.equal(false);
    expect(lost).to.deep.equal(['the wall clock and the monotonic clock disagree (was this machine suspended?)']);
  });

  it('takes its own lease back after a short partition when nobody took over', async () => {
    const aStore = view(kv);
    const a = lease('a', aStore);
    a.start();
    await clock.tickAsync(0);
    aStore.cut = true;
    await clock.tickAsync(LEASE * 0.6);
    expect(a.isOwner).to.equal(false);
    aStore.cut = false;
    await clock.tickAsync(POLL + 1);
    expect(a.isOwner).to.equal(true);
  });
});
