import { expect } from 'chai';
import { waitFor } from '../helpers/waitFor.js';
import { StatusSequencer, supersedes, type StatusPosition } from '../../src/store/statusOrder.js';

const at = (status: StatusPosition['status'], deliveries = 1, seq = 7): StatusPosition => ({ status, deliveries, seq });

describe('supersedes', () => {
  it('lets a delivery move forward: queued, processing, retrying, done', () => {
    expect(supersedes(at('processing'), at('queued', 0))).to.equal(true);
    expect(supersedes(at('retrying'), at('processing'))).to.equal(true);
    expect(supersedes(at('done'), at('processing'))).to.equal(true);
  });

  it('never lets processing or retrying follow done or dead of the same sequence', () => {
    expect(supersedes(at('processing'), at('done'))).to.equal(false);
    expect(supersedes(at('processing', 2), at('done'))).to.equal(false);
    expect(supersedes(at('retrying'), at('dead'))).to.equal(false);
    expect(supersedes(at('queued', 0), at('done'))).to.equal(false);
  });

  it('keeps done: nothing a later delivery of the same sequence reports replaces it', () => {
    for (const next of ['processing', 'retrying', 'done', 'dead'] as const) expect(supersedes(at(next, 2), at('done', 1)), next).to.equal(false);
  });

  it('lets done follow dead (a delivery still running when another was dead-lettered finished it), and nothing else', () => {
    expect(supersedes(at('done', 1), at('dead', 2))).to.equal(true);
    for (const next of ['processing', 'retrying', 'dead'] as const) expect(supersedes(at(next, 3), at('dead', 2)), next).to.equal(false);
  });

  it('lets the next delivery show processing after retrying', () => {
    expect(supersedes(at('processing', 2), at('retrying', 1))).to.equal(true);
    expect(supersedes(at('processing', 1), at('retrying', 2))).to.equal(false);
  });

  it('lets a replay (a later sequence) start over at queued, and never an earlier sequence', () => {
    expect(supersedes(at('queued', 0, 9), at('dead', 5, 7))).to.equal(true);
    expect(supersedes(at('done', 1, 6), at('queued', 0, 7))).to.equal(false);
  });
});

describe('StatusSequencer', () => {
  it('writes one key in the order asked and drops a write that would go backwards', async () => {
    const landed: string[] = [];
    const release: (() => void)[] = [];
    const seq = new StatusSequencer<StatusPosition>(async (_key, s) => {
      await new Promise<void>((r) => release.push(r));
      landed.push(s.status);
    });
    const processing = seq.put('k', at('processing'));
    const done = seq.put('k', at('done'));
    const late = seq.put('k', at('processing'));
    await late;
    await waitFor('the first write started', () => release.length === 1);
    release.shift()!();
    await processing;
    await waitFor('the second write started', () => release.length === 1);
    release.shift()!();
    await done;
    expect(landed).to.deep.equal(['processing', 'done']);
    expect(seq.inFlight).to.equal(0);
  });

  it('passes a failed write on to its caller and still writes the next one', async () => {
    const landed: string[] = [];
    const seq = new StatusSequencer<StatusPosition>(async (_key, s) => {
      if (s.status === 'processing') throw new Error('no ack');
      landed.push(s.status);
    });
    const failed = seq.put('k', at('processing'));
    const done = seq.put('k', at('done'));
    let error: unknown;
    await failed.catch((e) => (error = e));
    await done;
    expect((error as Error).message).to.equal('no ack');
    expect(landed).to.deep.equal(['done']);
  });
});
