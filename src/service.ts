import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DependencyOwnership, kvSessionStore, startDependencyActors, clusterScoped, forwardDeadlineMs, type DependencyActors, type DependencyName } from './dependencies/mod.js';
import { concurrencyOf } from './config/processing.js';
import type { ServiceConfig } from './serviceConfig.js';
import type { SourceHandler } from './processing/handler.js';
import { startEdge } from './http/edge.js';
import { isEdgeProcess } from './edgeProcesses.js';
import { createOperatingView, type OperatingView } from './ops/operatingView.js';
import { SourceValidator } from './ingest/validator.js';
import type { Log } from './log.js';
import { startProcessor, type Processor } from './processing/processor.js';
import { createPipelines, sources } from './sources/registry.js';
import { NatsLink } from './bus/connection.js';
import { ensureTopology, type SourceConsumerLimits, type TopologyBuckets } from './bus/topology.js';
import { WEBHOOKS_STREAM } from './bus/names.js';

/** Which parts a process runs. */
export interface ServiceRoles {
  /** The HTTP edge. */
  edge: boolean;
  /** Consumers, dependency actors and the dead-letter mover. */
  processing: boolean;
  /**
   * Wait up to this long for NATS before listening, so a process that shares
   * the port with ready siblings takes no traffic it would refuse. Past it
   * the edge listens anyway and `/ready` says why it is not ready.
   * @default 0
   */
  listenAfterReadyMs?: number;
  /**
   * How many edge processes the instance runs besides its primary
   * (told to the primary and to each worker), for `webhook_relay_processes`.
   * @default 0
   */
  edgeProcesses?: number;
}

/** A running service instance. */
export interface RunningService {
  /** Base URL of the HTTP edge, e.g. `http://127.0.0.1:3000` (empty without an edge). */
  readonly url: string;
  readonly server: Server | undefined;
  readonly link: NatsLink;
  readonly processor: Processor | undefined;
  readonly actors: DependencyActors | undefined;
  /** Leases of the cluster-scoped dependencies (with processing only). */
  readonly ownership: DependencyOwnership | undefined;
  /** Stats, actor states, metrics and the live feed of this process. */
  readonly ops: OperatingView;
  /**
   * Stops accepting, lets in-flight publishes and handlers finish, drains
   * NATS and closes the HTTP server.
   */
  stop(timeoutMs?: number): Promise<void>;
}

function consumerLimits(config: ServiceConfig): Map<string, SourceConsumerLimits> {
  return new Map(
    [...sources.keys()].map((s) => [s, { maxDeliver: config.processing.maxDeliver, ackWaitMs: config.processing.ackWaitMs, concurrency: concurrencyOf(config.processing, s) }]),
  );
}

/**
 * Starts the NATS link and the roles asked for. The HTTP edge listens at
 * once; until NATS is connected and the streams exist, webhooks get `503`
 * and `/ready` says why. Processing starts once NATS is ready.
 */
export async function startService(
  config: ServiceConfig,
  log: Log,
  natsUrl: string,
  roles: ServiceRoles = { edge: true, processing: true },
  pipelines: ReadonlyMap<string, SourceHandler> = createPipelines(config.processing),
): Promise<RunningService> {
  const validator = new SourceValidator(sources.values());
  let buckets: TopologyBuckets | undefined;
  const link = NatsLink.start({
    servers: natsUrl,
    client: config.nats.client,
    log,
    leaderOf: WEBHOOKS_STREAM,
    // Every stream and bucket at NATS_REPLICAS copies; a count the cluster cannot keep stops the service.
    onConnect: async (connection) => {
      const { nats } = config;
      const { replicas } = config.cluster;
      buckets = await ensureTopology(connection, {
        webhooks: { duplicateWindowMs: config.ingest.duplicateWindowMs, maxBytes: nats.streamMaxBytes, maxMsgs: nats.streamMaxMsgs, replicas },
        consumers: consumerLimits(config),
        deadLetters: { maxBytes: nats.deadLettersMaxBytes },
        buckets: { statusTtlMs: nats.statusTtlMs, stepsTtlMs: nats.stepsTtlMs, replicas },
      });
    },
  });

  const ops = createOperatingView({
    link,
    sources: sources.keys(),
    instance: config.cluster.instanceId,
    role: isEdgeProcess() ? 'edgeProcess' : 'primary',
    processing: roles.processing,
    edgeProcesses: roles.edgeProcesses ?? 0,
    log,
  });

  let server: Server | undefined;
  let url = '';
  let stopEdge: (timeoutMs: number) => Promise<void> = async () => undefined;
  if (roles.edge) {
    if (roles.listenAfterReadyMs) {
      await Promise.race([link.whenReady(), new Promise((r) => setTimeout(r, roles.listenAfterReadyMs).unref())]);
    }
    ({ server, url, stop: stopEdge } = await startEdge({ config, log, link, validator, metrics: ops.metrics, ops: ops.reader }));
  }

  // The browser must never reach this service's own port (its admin routes).
  const port = server ? (server.address() as AddressInfo).port : config.ingest.port;
  const scoped = clusterScoped(config.cluster.browserScope);
  const ownership = roles.processing
    ? new DependencyOwnership({
        names: scoped,
        instance: config.cluster.instanceId,
        leaseMs: config.cluster.depOwnerLeaseMs,
        deadlineMs: (name: string) => forwardDeadlineMs(config.dependencies, name as DependencyName),
        log,
      })
    : undefined;
  const actors = ownership
    ? await startDependencyActors(config.dependencies, {
        log,
        forbiddenPorts: [port],
        // Opened by the topology once NATS is ready.
        sessions: kvSessionStore(async () => {
          await link.whenReady();
          return buckets!.sessions;
        }),
        inspectHost: config.ingest.host,
        cluster: { deferred: scoped, routeCalls: ownership.routeCalls, remoteBreaker: ownership.remoteBreaker },
      })
    : undefined;
  if (actors && ownership) {
    const { runtime } = actors;
    ops.watchDependencies({
      subscribe: (l) => runtime.subscribe(l),
      status: (name) => runtime.status(name),
      statuses: () => runtime.statuses(),
      owner: (name) => ownership.owner(name),
      leases: () => Object.fromEntries(scoped.map((name) => [name, ownership.isOwner(name)])),
    });
  }
  // Everything below waits for NATS; `stop()` before NATS ever let this process in ends the wait.
  let stopping = false;
  const ownershipReady =
    actors && ownership
      ? link
          .whenUsable()
          .then((usable) => (usable ? ownership.start(link.nc!, buckets!, actors.runtime) : undefined))
          .catch((e: unknown) => log.error({ err: e }, 'dependency ownership did not start'))
      : undefined;
  let processor: Processor | undefined;
  const startProcessing = async (): Promise<Processor | undefined> => {
    await ownershipReady;
    if (!(await link.whenUsable())) return undefined;
    await ownership?.whenOwnersKnown(config.cluster.depOwnerLeaseMs);
    if (stopping) return undefined;
    try {
      const p = await startProcessor({ config, link, handlers: pipelines, validator, actors: actors!, log });
      ops.watchProcessing(p.events);
      return (processor = p);
    } catch (e) {
      log.fatal({ err: e }, 'processing did not start');
      return undefined;
    }
  };
  const processorReady = actors ? startProcessing() : undefined;

  return {
    url,
    server,
    link,
    actors,
    ops,
    ownership,
    get processor() {
      return processor;
    },
    async stop(timeoutMs = config.processing.shutdownTimeoutMs) {
      await stopEdge(timeoutMs);
      stopping = true;
      if (!link.wasReady) await link.drain();
      await (await processorReady)?.stop();
      ops.stop();
      await ownershipReady;
      await ownership?.stop();
      await actors?.stop();
      await link.drain();
    },
  };
}
