import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
    private readonly configFile: string,
    private readonly scheme: 'nats' | 'tls',
  ) {}

  /**
   * Starts a fresh server with an empty store.
   * @param options.maxPayload the server's `max_payload` instead of the project's (e.g. `'64KB'`)
   * @param options.config more configuration after the project's (accounts, users, `tls { … }`)
   * @param options.scheme the scheme of {@link url} (`tls` for a server that requires TLS)
   * @param options.files files written beside the configuration first (name → content), for it to `include`
   */
  static async start(options: { maxPayload?: string; config?: string; scheme?: 'nats' | 'tls'; files?: Record<string, string> } = {}): Promise<TestNats> {
    const dir = await mkdtemp(join(tmpdir(), 'webhook-relay-nats-'));
    for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), content);
    let configFile = projectConf;
    if (options.maxPayload !== undefined || options.config !== undefined) {
      configFile = join(dir, 'nats.conf');
      let text = await readFile(projectConf, 'utf8');
      if (options.maxPayload !== undefined) text = text.replace(/^max_payload:.*$/m, `max_payload: ${options.maxPayload}`);
      await writeFile(configFile, `${text}\n${options.config ?? ''}\n`);
    }
    const t = new TestNats(join(dir, 'store'), 0, configFile, options.scheme ?? 'nats');
    await t.restart();
    return t;
  }

  /** `nats://127.0.0.1:<port>` (`tls://` for a server started with that scheme) */
  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  /** The folder of this server's files (its store and configuration), for test files beside them. */
  get dir(): string {
    return dirname(this.storeDir);
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.server !== undefined;
  }

  /** Starts the server again (same port, same store) if it is stopped. */
  async restart(): Promise<void> {
    if (this.server) return;
    this.server = await startLocalNats({ storeDir: this.storeDir, port: this.port, configFile: this.configFile });
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
    await rm(dirname(this.storeDir), { recursive: true, force: true });
  }
}
