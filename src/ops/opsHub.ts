import cluster, { type Worker } from 'node:cluster';
import type { Log } from '../log.js';
import { isOpsMessage, opsMessage, type OpsMessage, type OpsQuery } from './clusterProtocol.js';
import type { LocalOps } from './localOps.js';
import type { MetricsJson } from './metrics.js';

/** Options of {@link startOpsHub}. */
export interface OpsHubOptions {
  log: Log;
  /**
   * How long to wait for a worker's metrics; a worker that does not answer is left out.
   * @default 2000
   */
  collectTimeoutMs?: number;
}

/** The primary's side of the operating view's IPC. */
export interface OpsHub {
  stop(): void;
}

const QUERIES: Record<OpsQuery, (ops: LocalOps) => Promise<unknown>> = {
  stats: (ops) => ops.stats(),
  actors: (ops) => ops.actors(),
  recent: (ops) => ops.recent(),
  metrics: (ops) => ops.metrics(),
};

function send(worker: Worker, m: OpsMessage): void {
  if (worker.isConnected()) worker.send(m);
}

/**
 * Serves the operating view to the edge workers from the primary process:
 * answers their `/stats`, `/actors` and `/metrics` requests from `ops`
 * (which it gives the workers' metrics to sum in), and forwards the live
 * feed's batches to the workers that have clients.
 */
export function startOpsHub(ops: LocalOps, options: OpsHubOptions): OpsHub {
  const { log } = options;
  const collectTimeoutMs = options.collectTimeoutMs ?? 2000;
  const collecting = new Map<number, { workerId: number; resolve: (m: MetricsJson | undefined) => void }>();
  const watchers = new Set<Worker>();
  let nextId = 1;
  let unsubscribeFeed: (() => void) | undefined;

  const collectFrom = (worker: Worker) =>
    new Promise<MetricsJson | undefined>((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => finish(undefined), collectTimeoutMs);
      const finish = (m: MetricsJson | undefined) => {
        clearTimeout(timer);
        collecting.delete(id);
        resolve(m);
      };
      collecting.set(id, { workerId: worker.id, resolve: finish });
      send(worker, opsMessage({ kind: 'collect', id }));
    });

  ops.setPeers(async () => {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    const answers = await Promise.all(workers.map(collectFrom));
    return answers.filter((a): a is MetricsJson => a !== undefined);
  });

  const updateFeed = () => {
    if (watchers.size > 0 && !unsubscribeFeed) {
      unsubscribeFeed = ops.subscribe((events) => {
        for (const w of watchers) send(w, opsMessage({ kind: 'events', events }));
      });
    } else if (watchers.size === 0 && unsubscribeFeed) {
      unsubscribeFeed();
      unsubscribeFeed = undefined;
    }
  };

  const answer = async (worker: Worker, m: Extract<OpsMessage, { kind: 'request' }>) => {
    try {
      const value = await QUERIES[m.query](ops);
      send(worker, opsMessage({ kind: 'response', id: m.id, ok: true, value }));
    } catch (e) {
      log.warn({ err: e, query: m.query }, 'operating view request failed');
      send(worker, opsMessage({ kind: 'response', id: m.id, ok: false, error: (e as Error).message }));
    }
  };

  const onMessage = (worker: Worker, m: unknown) => {
    if (!isOpsMessage(m)) return;
    if (m.kind === 'request') void answer(worker, m);
    else if (m.kind === 'collected') collecting.get(m.id)?.resolve(m.metrics);
    else if (m.kind === 'watch') {
      if (m.on) watchers.add(worker);
      else watchers.delete(worker);
      updateFeed();
    }
  };
  const onExit = (worker: Worker) => {
    watchers.delete(worker);
    updateFeed();
    for (const c of [...collecting.values()]) if (c.workerId === worker.id) c.resolve(undefined);
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);

  return {
    stop() {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      ops.setPeers(undefined);
      watchers.clear();
      updateFeed();
      for (const c of [...collecting.values()]) c.resolve(undefined);
    },
  };
}
