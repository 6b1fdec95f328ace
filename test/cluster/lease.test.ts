import { expect } from 'chai';
import sinon from 'sinon';
import { DependencyLease, type LeaseEntry, type LeaseStore, type LeaseValue } from '../../src/cluster/lease.js';

/** An in-memory KV with nats's revision rules: one sequence for the bucket, CAS on the key's revision. */
class MemoryKv implements LeaseStore {
  private seq = 0;
  entry: { value: string; revision: number; operation: 'PUT' | 'DEL' } | undefined;

  async get(): Promise<LeaseEntry | null> {
    const e = this.entry;
    return e ? { revision: e.revision, operation: e.operation, json: <T>() => JSON.parse(e.value) as T } : null;
  }
  async create(_key: string, value: string): Promise<number> {
    if (this.entry?.operation === 'PUT') throw Object.assign(new Error('wrong last sequence: 1'), { code: 10071 });
    return this.write(value, 'PUT');
  }
  async update(_key: string, value: string, revision: number): Promise<number> {
    if (this.entry?.revision !== revision) throw Object.assign(new Error(`wrong last sequence: ${this.entry?.revision}`), { code: 10071 });
    return this.write(value, 'PUT');
  }
  async delete(_key: string, options: { previousSeq?: number } = {}): Promise<void> {
    if (options.previousSeq !== undefined && this.entry?.revision !== options.previousSeq) throw Object.assign(new Error('wrong last sequence'), { code: 10071 });
    this.write('', 'DEL');
  }
  holder(): string | undefined {
    return this.entry?.operation === 'PUT' ? (JSON.parse(this.entry.value) as LeaseValue).instance : undefined;
  }
  private write(value: string, operation: 'PUT' | 'DEL'): number {
    this.entry = { value, revision: ++this.seq, operation };
    return this.seq;
  }
}

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

  function lease(instance: string, store: LeaseStore = kv, extra: { onLost?: (r: string) => void; onAcquired?: (t: number) => void } = {}): DependencyLease {
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
