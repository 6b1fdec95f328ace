import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/nats/localServer.js';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Resolves when `child` has exited, or with false once `timeoutMs` passed. */
async function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
  try {
    return await Promise.race([once(child, 'exit').then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * The service (`src/main.ts` through tsx) as its own process group on a
 * fixed loopback port, so a SIGKILL takes the edge processes with it, as a
 * container's or a systemd unit's would.
 */
export class ChaosService {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string | undefined,
  ) {}

  /**
   * A service on a free loopback port; not started yet.
   * @param logFile where its log lines are appended; by default only its stderr is shown
   */
  static async create(env: NodeJS.ProcessEnv, logFile?: string): Promise<ChaosService> {
    return new ChaosService(await freePort(), env, logFile);
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the process group and waits until `/ready` answers 200.
   * @throws Error when it is not ready within `timeoutMs`
   */
  async start(timeoutMs = 120_000): Promise<void> {
    const log = this.logFile === undefined ? undefined : openSync(this.logFile, 'a');
    try {
      this.child = spawn(process.execPath, ['--import', 'tsx', main], {
        env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
        stdio: ['ignore', log ?? 'ignore', log ?? 'inherit'],
        detached: true,
      });
    } finally {
      if (log !== undefined) closeSync(log);
    }
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const res = await fetch(`${this.url}/ready`).catch(() => undefined);
      if (res?.status === 200) return;
      if (this.child.exitCode !== null) throw new Error(`the service exited with ${this.child.exitCode} while starting`);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the service was not ready within ${timeoutMs} ms`);
  }

  /** SIGKILLs the whole process group and waits for the main process to exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child?.pid) return;
    signalGroup(child.pid, 'SIGKILL');
    await exited(child, 10_000);
  }

  /**
   * SIGSTOPs the whole process group, as a frozen container or a suspended
   * VM: nothing in it runs, its sockets stay open, its clocks run on.
   */
  pause(): void {
    if (this.child?.pid) signalGroup(this.child.pid, 'SIGSTOP');
  }

  /** SIGCONTs the process group after {@link pause}. */
  resume(): void {
    if (this.child?.pid) signalGroup(this.child.pid, 'SIGCONT');
  }

  /**
   * SIGTERMs the main process (it stops its workers) and waits for it to
   * exit; past `timeoutMs` the group is SIGKILLed. A paused group is
   * continued first, so it can stop cleanly.
   * @returns the exit code, or null when it had to be killed
   */
  async terminate(timeoutMs = 45_000): Promise<number | null> {
    const child = this.child;
    if (!child?.pid) return null;
    this.resume();
    child.kill('SIGTERM');
    if (await exited(child, timeoutMs)) {
      this.child = undefined;
      // Nothing of the group may outlive it.
      signalGroup(child.pid, 'SIGKILL');
      return child.exitCode;
    }
    await this.kill();
    return null;
  }
}
