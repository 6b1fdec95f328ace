import type { JetStreamManager } from '@nats-io/jetstream';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { once } from 'node:events';
import autocannon from 'autocannon';

/** One autocannon run's figures. */
export interface LoadResult {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  /** JetStream sequences from the 2xx bodies (`seq`), when the body has one. */
  seqs: number[];
}

/** Runs autocannon against `url` with a JSON POST body. */
export async function load(url: string, body: string, { connections = 100, durationS = 10 } = {}): Promise<LoadResult> {
  const seqs: number[] = [];
  const result = await autocannon({
    url,
    connections,
    duration: durationS,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        onResponse: (status: number, resBody: string) => {
          if (status >= 200 && status < 300) seqs.push((JSON.parse(resBody) as { seq: number }).seq);
        },
      },
    ],
  });
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seqs,
  };
}

/** Spawns a child process and resolves with it once `ready` matches its output (at once when `ready` is null). */
export async function spawnUntil(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp | null): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', ready ? 'pipe' : 'inherit', ready ? 'pipe' : 'inherit'] });
  if (!ready) return { child, match: [''] as unknown as RegExpMatchArray };
  let buf = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = buf.match(ready);
      if (m) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve({ child, match: m });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code} before ready:\n${buf}`)));
  });
}

/** Sends SIGTERM and waits for the child to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Formats a row of figures for the console. */
export function row(name: string, r: LoadResult): string {
  return `${name.padEnd(8)} ${r.requestsPerSec.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50Ms).padStart(4)} ms   p99 ${String(r.p99Ms).padStart(4)} ms   2xx ${r.ok2xx}   non-2xx ${r.non2xx}   errors ${r.errors}`;
}

function readyOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // A new connection each time, so every edge process gets asked.
    const req = get({ host: '127.0.0.1', port, path: '/ready', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/** Waits until `/ready` answers 200 on 20 new connections in a row (every edge process is ready). */
export async function waitAllReady(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let ok = 0; ok < 20; ) {
    ok = (await readyOnce(port)) ? ok + 1 : 0;
    if (Date.now() > deadline) throw new Error('the service did not become ready');
    if (ok === 0) await new Promise((r) => setTimeout(r, 100));
  }
}

/** How many orders are stored so far, and when the first and the latest were seen. */
export interface StoredProgress {
  stored: number;
  firstAt: number;
  lastAt: number;
  stop(): void;
}

/** Polls the message count of `KV_orders` every `intervalMs` (the stored orders). */
export function watchStoredOrders(jsm: JetStreamManager, intervalMs = 50): StoredProgress {
  const progress: StoredProgress = { stored: 0, firstAt: 0, lastAt: 0, stop: () => clearInterval(poll) };
  // The interval does not wait for a sample; each one settles on its own.
  const sample = async () => {
    const s = (await jsm.streams.info('KV_orders').catch(() => undefined))?.state.messages ?? 0;
    if (s > progress.stored) {
      if (progress.stored === 0) progress.firstAt = Date.now();
      progress.lastAt = Date.now();
      progress.stored = s;
    }
  };
  const poll = setInterval(() => void sample(), intervalMs);
  return progress;
}
