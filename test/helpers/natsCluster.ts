import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { freePort, startLocalNats, type LocalNats } from '../../src/nats/localServer.js';
import { waitFor } from './waitFor.js';

const projectConf = fileURLToPath(new URL('../../nats.conf', import.meta.url));
const CLUSTER_NAME = 'webhook-relay-test';

/** One node of a {@link NatsCluster}: fixed ports and store, so a restart rejoins as the same server. */
export interface ClusterNode {
  /** `server_name`, unique in the cluster (`n1`, `n2`, …). */
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly storeDir: string;
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * A JetStream cluster of nats-server processes on loopback for one test
 * file: free client and route ports, a temporary store per node, unique
 * server names and full-mesh `--routes`. Nodes can be killed, stopped and
 * restarted on the same ports and store.
 */
export class NatsCluster {
  private readonly servers = new Map<string, LocalNats>();

  private constructor(
    readonly nodes: readonly ClusterNode[],
    private readonly root: string,
  ) {}

  /**
   * Starts `size` nodes and waits until JetStream has a meta leader.
   * @throws Error when a node does not start or no meta leader is elected in time.
   */
  static async start({ size = 3, timeoutMs = 30_000 } = {}): Promise<NatsCluster> {
    // A free port can still be taken before a node binds it (by a client's ephemeral port): start again on new ports.
    for (let attempt = 1; ; attempt++) {
      try {
        return await NatsCluster.startOnce(size, timeoutMs);
      } catch (e) {
        if (attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
      }
    }
  }

  private static async startOnce(size: number, timeoutMs: number): Promise<NatsCluster> {
    const root = await mkdtemp(join(tmpdir(), 'webhook-relay-cluster-'));
    const nodes: ClusterNode[] = [];
    // freePort can hand out a port it just handed out (it is free again once probed): each node gets its own.
    const taken = new Set<number>();
    const distinctPort = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (taken.has(p)) continue;
        taken.add(p);
        return p;
      }
    };
    for (let i = 1; i <= size; i++) {
      const port = await distinctPort();
      nodes.push({ name: `n${i}`, port, clusterPort: await distinctPort(), storeDir: join(root, `n${i}`), url: `nats://127.0.0.1:${port}` });
    }
    const cluster = new NatsCluster(nodes, root);
    try {
      // Every start settles before a failure is thrown, so dispose() stops the nodes that did start.
      const started = await Promise.allSettled(nodes.map((n) => cluster.restart(n.name, { wait: false })));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      await cluster.waitForJetStream(timeoutMs);
    } catch (e) {
      await cluster.dispose();
      throw e;
    }
    return cluster;
  }

  /** Every node's client URL, comma-separated, as `NATS_URL` takes them. */
  get urls(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** Whether the node's process is running. */
  running(name: string): boolean {
    return this.servers.has(name);
  }

  private node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no cluster node named ${name}`);
    return node;
  }

  /**
   * Starts a stopped node on its ports and store; by default waits until
   * JetStream answers again.
   */
  async restart(name: string, { wait = true, timeoutMs = 30_000 } = {}): Promise<void> {
    const node = this.node(name);
    if (this.servers.has(name)) return;
    const routes = this.nodes.filter((n) => n !== node).map((n) => `nats://127.0.0.1:${n.clusterPort}`);
    const server = await startLocalNats({
      storeDir: node.storeDir,
      port: node.port,
      configFile: projectConf,
      serverName: node.name,
      extraArgs: ['--cluster_name', CLUSTER_NAME, '--cluster', `nats://127.0.0.1:${node.clusterPort}`, '--routes', routes.join(',')],
    });
    this.servers.set(name, server);
    if (wait) await this.waitForJetStream(timeoutMs);
  }

  /** Kills a node with SIGKILL (no goodbye to its peers). */
  async kill(name: string): Promise<void> {
    const s = this.servers.get(name);
    this.servers.delete(name);
    await s?.kill();
  }

  /** Stops a node gracefully (SIGTERM). */
  async stop(name: string): Promise<void> {
    const s = this.servers.get(name);
    this.servers.delete(name);
    await s?.stop();
  }

  /** A client connection to every running node, with a short JetStream API timeout. */
  async connect(timeoutMs = 2000): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
    const servers = this.nodes.filter((n) => this.servers.has(n.name)).map((n) => n.url);
    const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    return { nc, jsm: await jetstreamManager(nc, { timeout: timeoutMs, checkAPI: false }) };
  }

  /**
   * Waits until the JetStream API answers (a meta leader is elected).
   * @throws Error when it does not within `timeoutMs`.
   */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const { nc, jsm } = await this.connect(1000);
    try {
      await waitFor('a JetStream meta leader', () => jsm.getAccountInfo(), { timeoutMs, intervalMs: 200 });
    } finally {
      await nc.close();
    }
  }

  /**
   * The name of the node leading `stream`, once it has one.
   * @throws Error when no leader is elected within `timeoutMs`.
   */
  async streamLeader(stream: string, timeoutMs = 30_000): Promise<string> {
    const { nc, jsm } = await this.connect(1000);
    try {
      return await waitFor(`a leader of ${stream}`, async () => (await jsm.streams.info(stream)).cluster?.leader, { timeoutMs, intervalMs: 200 });
    } finally {
      await nc.close();
    }
  }

  /** Stops every node and deletes the stores. */
  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.stop(n.name)));
    await rm(this.root, { recursive: true, force: true });
  }
}
