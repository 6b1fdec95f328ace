import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { waitFor } from './waitFor.js';

/** A server program a test started (Prometheus, Alertmanager, an exporter). */
export interface Daemon {
  /** The last few KB it wrote to stderr, for failure messages. */
  log(): string;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `binary` with `args` and waits until `readyUrl` answers 2xx.
 * @throws Error with the program's log when it is not ready within 30 s.
 */
export async function startDaemon(binary: string, args: string[], readyUrl: string): Promise<Daemon> {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const daemon: Daemon = {
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await waitFor(`${binary} ready`, async () => child.exitCode === null && (await fetch(readyUrl)).ok, { timeoutMs: 30_000, intervalMs: 100 });
  } catch (e) {
    await daemon.stop();
    throw new Error(`${(e as Error).message}\n${binary} log: ${log}`, { cause: e });
  }
  return daemon;
}
