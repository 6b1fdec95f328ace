import cluster from 'node:cluster';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEdgeProcesses } from '../src/edgeProcesses.js';
import { createLogger } from '../src/log.js';
import { waitFor } from './helpers/waitFor.js';

describe('startEdgeProcesses', () => {
  let dir: string;
  const exec = cluster.settings.exec;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webhook-relay-workers-'));
  });
  after(async () => {
    cluster.setupPrimary({ exec });
    await rm(dir, { recursive: true, force: true });
  });

  /** Makes forked workers run a script that exits with `code` (after `delayMs`). */
  async function workersExitWith(code: number, delayMs = 0): Promise<void> {
    const script = join(dir, `exit-${code}.mjs`);
    await writeFile(script, `setTimeout(() => process.exit(${code}), ${delayMs});\n`);
    cluster.setupPrimary({ exec: script });
  }

  function countForks(): { readonly n: number; stop(): void } {
    let n = 0;
    const onFork = () => n++;
    cluster.on('fork', onFork);
    return { get n() { return n; }, stop: () => cluster.off('fork', onFork) };
  }

  it('does not replace a worker that exits with a configuration error (78) and reports it once', async () => {
    await workersExitWith(78);
    const forks = countForks();
    const reported: number[] = [];
    const workers = startEdgeProcesses({ count: 2, env: {}, log: createLogger('silent'), restartDelayMs: 10, onUnrecoverable: (c) => reported.push(c) });
    try {
      await waitFor('the unrecoverable exit to be reported', () => reported.length > 0);
      await workers.stop();
      expect(reported).to.deep.equal([78]);
      expect(forks.n).to.equal(2);
    } finally {
      forks.stop();
      await workers.stop();
    }
  });

  it('replaces a worker that crashes with any other code', async () => {
    await workersExitWith(1, 50);
    const forks = countForks();
    const reported: number[] = [];
    const workers = startEdgeProcesses({ count: 1, env: {}, log: createLogger('silent'), restartDelayMs: 10, onUnrecoverable: (c) => reported.push(c) });
    try {
      await waitFor('a crashed worker to be replaced twice', () => forks.n >= 3);
      expect(reported).to.deep.equal([]);
    } finally {
      await workers.stop();
      forks.stop();
    }
  });
});
