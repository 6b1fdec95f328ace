import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TestNats } from '../../test/helpers/natsServer.js';
import { waitFor } from '../../test/helpers/waitFor.js';
import { startMamStub, type MamStub } from '../../test/stubs/mam.js';
import type { StubServer } from '../../test/stubs/stubServer.js';
import { audnexUrlFor, startChaosAudnex } from './audnexStub.js';
import { BlackholeProxy } from './blackholeProxy.js';
import type { DependencyLimits } from './limits.js';
import { ChaosService } from './processes.js';

/** One service instance and the proxy it reaches NATS through. */
export interface OwnerInstance {
  /** Its `INSTANCE_ID`. */
  readonly id: string;
  readonly service: ChaosService;
  readonly proxy: BlackholeProxy;
}

/** Options of {@link OwnerCluster.start}. */
export interface OwnerClusterOptions {
  /** Service instances. @default 2 */
  instances?: number;
  /** Their `DEP_OWNER_LEASE_MS`. */
  leaseMs: number;
  /** Audnex's limits (`AUDNEX_RATE`, `AUDNEX_BURST`, `AUDNEX_CONCURRENCY`). */
  audnex: DependencyLimits;
  /** More environment for every instance (LOG_LEVEL…). */
  env?: NodeJS.ProcessEnv;
  /** A file the instances' log lines are appended to. */
  serviceLog?: string;
}

/**
 * Processing instances sharing one nats-server and one Audnex, all on
 * loopback: a nats-server on its own port and temporary store, the Audnex
 * and MAM stubs, and per instance a {@link BlackholeProxy} to nats-server
 * and `src/main.ts` (`SERVICE_ROLE=all`, its own `INSTANCE_ID`) connected
 * through it, with Audnex reached directly.
 */
export class OwnerCluster {
  private constructor(
    readonly nats: TestNats,
    /** The runner's own connection, straight to nats-server. */
    readonly nc: NatsConnection,
    readonly audnex: StubServer,
    readonly mam: MamStub,
    readonly instances: readonly OwnerInstance[],
  ) {}

  /**
   * Starts everything and waits until every instance is ready and Audnex has an owner.
   * @throws Error when an instance does not get ready, or no owner appears.
   */
  static async start(o: OwnerClusterOptions): Promise<OwnerCluster> {
    const nats = await TestNats.start();
    const parts: { nc?: NatsConnection; audnex?: StubServer; mam?: MamStub; instances: OwnerInstance[] } = { instances: [] };
    try {
      parts.nc = await connect({ servers: nats.url });
      parts.audnex = await startChaosAudnex();
      // The answer takes a little while, so two calls at once would overlap at the stub.
      parts.audnex.answerDelayMs = 50;
      parts.mam = await startMamStub();
      // One MAM session for all: whichever instance owns MAM starts from it.
      const mamSession = parts.mam.openSession();
      const { port } = new URL(nats.url);
      for (let n = 0; n < (o.instances ?? 2); n++) {
        const id = `chaos-${String.fromCharCode(97 + n)}`;
        const proxy = await BlackholeProxy.start({ host: '127.0.0.1', port: Number(port) });
        const service = await ChaosService.create(
          {
            LOG_LEVEL: 'error',
            ...o.env,
            NATS_URL: proxy.url,
            SERVICE_ROLE: 'all',
            INSTANCE_ID: id,
            INGEST_WORKERS: '1',
            DEP_OWNER_LEASE_MS: String(o.leaseMs),
            AUDNEX_URL: audnexUrlFor(parts.audnex, id),
            AUDNEX_RATE: String(o.audnex.rate),
            AUDNEX_BURST: String(o.audnex.burst),
            AUDNEX_CONCURRENCY: String(o.audnex.concurrency),
            MAM_URL: parts.mam.url,
            MAM_ID: mamSession,
            MAM_RATE: '50',
            // Webhooks refused during a handover come back quickly, and often enough.
            RETRY_BACKOFF: '250ms,500ms,1s',
            MAX_DELIVER: '50',
          },
          o.serviceLog,
        );
        parts.instances.push({ id, service, proxy });
      }
      await Promise.all(parts.instances.map((i) => i.service.start()));
      const cluster = new OwnerCluster(nats, parts.nc, parts.audnex, parts.mam, parts.instances);
      await cluster.ownerOf('audnex');
      return cluster;
    } catch (e) {
      await dispose(nats, parts);
      throw e;
    }
  }

  /** The instances' base URLs. */
  get urls(): string[] {
    return this.instances.map((i) => i.service.url);
  }

  /**
   * The instance `dependency-owners` names for `dependency`, once there is one.
   * @throws Error when none appears within 30 s.
   */
  async ownerOf(dependency: string): Promise<OwnerInstance> {
    const kv = await new Kvm(this.nc).open('dependency-owners');
    const id = await waitFor(`an owner of ${dependency}`, async () => {
      const e = await kv.get(dependency);
      return e?.operation === 'PUT' ? e.json<{ instance: string }>().instance : undefined;
    }, { timeoutMs: 30_000, intervalMs: 100 });
    const owner = this.instances.find((i) => i.id === id);
    if (!owner) throw new Error(`dependency-owners names '${id}', not one of ${this.instances.map((i) => i.id).join(', ')}`);
    return owner;
  }

  /**
   * Waits until every instance answers `/ready` with 200.
   * @throws Error when one does not within `timeoutMs`.
   */
  async ready(timeoutMs = 60_000): Promise<void> {
    for (const i of this.instances) {
      await waitFor(`${i.id} ready`, async () => (await fetch(`${i.service.url}/ready`)).status === 200, { timeoutMs, intervalMs: 200 });
    }
  }

  /** Stops the instances, the proxies, the stubs and nats-server. */
  async dispose(): Promise<void> {
    await dispose(this.nats, { nc: this.nc, audnex: this.audnex, mam: this.mam, instances: [...this.instances] });
  }
}

async function dispose(nats: TestNats, parts: { nc?: NatsConnection; audnex?: StubServer; mam?: MamStub; instances: OwnerInstance[] }): Promise<void> {
  await Promise.all(
    parts.instances.map(async (i) => {
      i.proxy.restore();
      await i.service.terminate(30_000).catch(() => undefined);
      await i.proxy.close();
    }),
  );
  await parts.nc?.close().catch(() => undefined);
  await Promise.all([parts.audnex?.close(), parts.mam?.close()]);
  await nats.dispose().catch(() => undefined);
}
