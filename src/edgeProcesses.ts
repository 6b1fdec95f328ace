import cluster, { type Worker } from 'node:cluster';
import { CONFIG_ERROR_EXIT_CODE } from './config/parse.js';
import type { Log } from './log.js';
import { cappedExponential } from './backoff.js';

const MAX_RESTART_DELAY_MS = 30_000;

/** Options for {@link startEdgeProcesses}. */
export interface EdgeProcessOptions {
  /** How many HTTP edge processes to run. */
  count: number;
  /** Extra environment for the workers (for example the resolved NATS_URL). */
  env: Record<string, string>;
  log: Log;
  /**
   * First pause before a crashed worker is replaced; doubles per crash in a row, capped at 30 s.
   * @default 500
   */
  restartDelayMs?: number;
  /**
   * Called, instead of a replacement, when a worker exits with
   * `CONFIG_ERROR_EXIT_CODE` (78): it met a problem a restart cannot fix,
   * such as `PORT` already taken. The remaining workers are left running
   * for the caller to stop.
   */
  onUnrecoverable?: (code: number) => void;
}

/** The running edge processes. */
export interface EdgeProcesses {
  /** Asks every worker to shut down (SIGTERM) and waits for all to exit. */
  stop(): Promise<void>;
}

/**
 * Runs the HTTP edge in `count` worker processes sharing one listening
 * port (node:cluster), each with its own NATS connection. A worker that dies
 * unexpectedly is replaced with backoff; one that exits with a configuration
 * error is not, since its replacement would fail the same way.
 */
export function startEdgeProcesses(options: EdgeProcessOptions): EdgeProcesses {
  const { count, env, log } = options;
  const baseDelay = options.restartDelayMs ?? 500;
  let stopping = false;
  let crashesInARow = 0;
  const live = new Set<Worker>();

  const fork = () => {
    const w = cluster.fork({ ...env, WEBHOOK_RELAY_ROLE: 'edge' });
    live.add(w);
    w.once('listening', () => {
      crashesInARow = 0;
    });
    w.once('exit', (code, signal) => {
      live.delete(w);
      if (stopping) return;
      if (code === CONFIG_ERROR_EXIT_CODE) {
        stopping = true;
        options.onUnrecoverable?.(code);
        return;
      }
      const delay = cappedExponential({ baseMs: baseDelay, maxMs: MAX_RESTART_DELAY_MS, attempt: ++crashesInARow });
      log.error({ pid: w.process.pid, code, signal, restartInMs: delay }, 'edge process exited; replacing it');
      setTimeout(fork, delay).unref();
    });
  };
  for (let i = 0; i < count; i++) fork();

  return {
    async stop() {
      stopping = true;
      await Promise.all(
        [...live].map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

/** Whether this process is an edge process started by {@link startEdgeProcesses}. */
export function isEdgeProcess(): boolean {
  return cluster.isWorker && process.env.WEBHOOK_RELAY_ROLE === 'edge';
}
