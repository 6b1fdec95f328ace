import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalNats, type LocalNats } from '../../src/nats/localServer.js';

const projectConf = fileURLToPath(new URL('../../nats.conf', import.meta.url));

/**
 * A nats-server for one test file: the project's nats.conf on a free port
 * with a temporary store dir, never the machine's shared server on 4222.
 * It can be stopped, killed and restarted on the same port and store.
 */
export class TestNats {
  private server: LocalNats | undefined;

  private constructor(
    readonly storeDir: string,
    private port: number,
  ) {}

  /** Starts a fresh server with an empty store. */
  static async start(): Promise<TestNats> {
    const dir = await mkdtemp(join(tmpdir(), 'webhook-relay-nats-'));
    const t = new TestNats(dir, 0);
    await t.restart();
    return t;
  }

  /** `nats://127.0.0.1:<port>` */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.server !== undefined;
  }

  /** Starts the server again (same port, same store) if it is stopped. */
  async restart(): Promise<void> {
    if (this.server) return;
    this.server = await startLocalNats({ storeDir: this.storeDir, port: this.port, configFile: projectConf });
    this.port = this.server.port;
  }

  /** Stops the server gracefully. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.stop();
  }

  /** Kills the server with SIGKILL. */
  async kill(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.kill();
  }

  /** Stops the server and deletes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}
