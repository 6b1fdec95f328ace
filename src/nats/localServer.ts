import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { mkdir } from 'node:fs/promises';

/** Options for {@link startLocalNats}. */
export interface LocalNatsOptions {
  /** Directory for JetStream's file store (created if missing). */
  storeDir: string;
  /**
   * nats-server configuration file; flags below override it.
   * @default undefined (flags only)
   */
  configFile?: string;
  /**
   * Address to listen on.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Port to listen on; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * nats-server executable.
   * @default 'nats-server'
   */
  binary?: string;
  /**
   * How long to wait for the server to accept connections.
   * @default 15000
   */
  startTimeoutMs?: number;
  /** Receives each line the server logs (stderr). */
  onLog?: (line: string) => void;
}

/** A running nats-server child process. */
export interface LocalNats {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly storeDir: string;
  readonly pid: number;
  /** Stops the server gracefully (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
}

/** Finds a TCP port that is free on `host` right now. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on `host:port`. */
export async function isListening(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Starts a JetStream-enabled nats-server as a child process and resolves
 * once it accepts connections.
 * @throws Error when the binary is missing or the server exits or does not
 * listen within `startTimeoutMs`.
 */
export async function startLocalNats(options: LocalNatsOptions): Promise<LocalNats> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port || (await freePort(host));
  const binary = options.binary ?? 'nats-server';
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  await mkdir(options.storeDir, { recursive: true });

  const args = [
    ...(options.configFile ? ['-c', options.configFile] : []),
    '--addr', host,
    '--port', String(port),
    '--jetstream',
    '--store_dir', options.storeDir,
  ];
  // Its own process group: a Ctrl-C in the terminal reaches only the service,
  // which drains its connection before stopping this server.
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitInfo: string | undefined;
  child.once('exit', (code, signal) => {
    exitInfo = `nats-server exited (code ${code}, signal ${signal})`;
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000);
    if (options.onLog) for (const line of chunk.split('\n')) if (line) options.onLog(line);
  });

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${binary}: ${spawnError.message}`, { cause: spawnError });
    if (exitInfo) throw new Error(`${exitInfo} before listening on ${host}:${port}:\n${tail}`);
    if (await isListening(host, port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not listen on ${host}:${port} within ${startTimeoutMs} ms:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return {
    url: `nats://${host}:${port}`,
    host,
    port,
    storeDir: options.storeDir,
    pid: (child as ChildProcess).pid ?? -1,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}
