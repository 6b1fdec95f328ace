import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { StreamLeaderProbe } from './streamLeader.js';
import { ErrorCodes } from '../errors/codes.js';
import { isServiceError } from '../errors/serviceError.js';
import type { Log } from '../log.js';

/** What {@link NatsLink} reports through `/ready`. */
export interface LinkState {
  ready: boolean;
  reason: string;
}

/** Options for {@link NatsLink.start}. */
export interface NatsLinkOptions {
  /** Comma-separated server URLs. */
  servers: string;
  log: Log;
  /**
   * Runs after every (re)connect before the link reports ready, e.g. to
   * ensure streams exist. It is retried until it succeeds.
   */
  onConnect?: (link: { js: JetStreamClient; jsm: JetStreamManager; nc: NatsConnection }) => Promise<void>;
  /**
   * Pause between attempts of `onConnect`.
   * @default 1000
   */
  retryMs?: number;
  /**
   * A stream that must have a leader for {@link NatsLink.checkReady} to
   * report ready (in a cluster it may have none while the connection is up).
   * @default undefined (the connection and `onConnect` alone)
   */
  leaderOf?: string;
  /**
   * Client name shown in `nats server report connections`.
   * @default 'webhook-relay'
   */
  name?: string;
}

/**
 * The service's one NATS connection. It connects in the background and keeps
 * retrying forever, so the HTTP edge can start (and report not-ready) while
 * NATS is unreachable.
 */
export class NatsLink {
  nc: NatsConnection | undefined;
  js: JetStreamClient | undefined;
  jsm: JetStreamManager | undefined;
  private state: LinkState = { ready: false, reason: 'connecting to NATS' };
  private closing = false;
  private readonly ready$: Promise<void>;
  private resolveReady!: () => void;
  private readonly failed$: Promise<Error>;
  private resolveFailed!: (e: Error) => void;
  private readonly leader: StreamLeaderProbe | undefined;

  private constructor(private readonly options: NatsLinkOptions) {
    this.ready$ = new Promise((r) => (this.resolveReady = r));
    this.failed$ = new Promise((r) => (this.resolveFailed = r));
    this.leader = options.leaderOf === undefined ? undefined : new StreamLeaderProbe(options.leaderOf);
  }

  /** Starts connecting; returns at once. */
  static start(options: NatsLinkOptions): NatsLink {
    const link = new NatsLink(options);
    void link.run();
    return link;
  }

  /** Whether NATS is connected and `onConnect` has succeeded. */
  get ready(): boolean {
    return this.state.ready;
  }

  /** Readiness and, when not ready, why. */
  status(): LinkState {
    return { ...this.state };
  }

  /**
   * Readiness for `/ready`: {@link status}, and once that is ready, whether
   * the `leaderOf` stream has a leader (asked at most once a second).
   */
  async checkReady(): Promise<LinkState> {
    const state = this.status();
    if (!state.ready || !this.leader || !this.nc) return state;
    return this.leader.check(this.nc);
  }

  /** Resolves the first time the link becomes ready. */
  whenReady(): Promise<void> {
    return this.ready$;
  }

  /**
   * Resolves with the configuration error (`CONFIG_INVALID`, e.g. a
   * `NATS_REPLICAS` the cluster cannot satisfy) that made `onConnect` give
   * up; retrying cannot fix it, so the process should stop.
   */
  whenFailed(): Promise<Error> {
    return this.failed$;
  }

  private set(ready: boolean, reason: string): void {
    if (this.state.ready === ready && this.state.reason === reason) return;
    this.state = { ready, reason };
    this.options.log.info({ ready, reason }, 'nats link state');
    if (ready) this.resolveReady();
  }

  private async run(): Promise<void> {
    const { servers, log } = this.options;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: servers.split(',').map((s) => s.trim()),
        name: this.options.name ?? 'webhook-relay',
        waitOnFirstConnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        pingInterval: 10_000,
        maxPingOut: 3,
      });
    } catch (e) {
      log.error({ err: e }, 'nats connect failed');
      this.set(false, `cannot connect to NATS: ${(e as Error).message}`);
      return;
    }
    if (this.closing) {
      await nc.close();
      return;
    }
    this.nc = nc;
    this.js = jetstream(nc);
    this.jsm = await jetstreamManager(nc, { checkAPI: false });
    void this.watch(nc);
    await this.prepare();
  }

  private async prepare(): Promise<void> {
    const { onConnect, log } = this.options;
    const retryMs = this.options.retryMs ?? 1000;
    while (!this.closing && this.nc && !this.nc.isClosed()) {
      try {
        this.set(false, 'preparing JetStream streams');
        if (onConnect) await onConnect({ js: this.js!, jsm: this.jsm!, nc: this.nc });
        this.set(true, 'connected');
        return;
      } catch (e) {
        if (isServiceError(e) && e.code === ErrorCodes.CONFIG_INVALID) {
          log.fatal({ err: e }, 'JetStream set-up refused the configuration');
          this.set(false, e.message);
          this.resolveFailed(e);
          return;
        }
        log.warn({ err: e }, 'JetStream set-up failed; retrying');
        this.set(false, `JetStream set-up failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.closing) return;
      if (s.type === 'disconnect') this.set(false, 'disconnected from NATS; reconnecting');
      else if (s.type === 'reconnect') void this.prepare();
    }
  }

  /** Stops reconnecting, flushes pending publishes and closes the connection. */
  async drain(): Promise<void> {
    this.closing = true;
    this.set(false, 'shutting down');
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch {
      await nc.close();
    }
  }
}
