import { AuthorizationError, connect, PermissionViolationError, UserAuthenticationExpiredError, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsClientConfig } from '../config/natsClient.js';
import { clientConnectionOptions, OPEN_CLIENT } from './clientOptions.js';
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
  /** Comma-separated server URLs (without credentials: those are in `client`). */
  servers: string;
  /**
   * Authentication, TLS and inbox prefix.
   * @default no credentials, TLS only if the server offers it, `_INBOX`
   */
  client?: NatsClientConfig;
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

/** Whether the server refused the credentials (wrong, unknown, expired or revoked). */
function isLoginRefused(e: unknown): e is Error {
  return e instanceof AuthorizationError || e instanceof UserAuthenticationExpiredError;
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
  private readonly usable$: Promise<boolean>;
  private resolveUsable!: (usable: boolean) => void;
  private everReady = false;
  private readonly failed$: Promise<Error>;
  private resolveFailed!: (e: Error) => void;
  private readonly leader: StreamLeaderProbe | undefined;

  private constructor(private readonly options: NatsLinkOptions) {
    this.ready$ = new Promise((r) => (this.resolveReady = r));
    this.usable$ = new Promise((r) => (this.resolveUsable = r));
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
   * Resolves `true` the first time the link becomes ready, or `false` when
   * it is drained before that (a service stopped while NATS never let it in).
   */
  whenUsable(): Promise<boolean> {
    return this.usable$;
  }

  /** Whether the link has been ready at least once. */
  get wasReady(): boolean {
    return this.everReady;
  }

  /**
   * Resolves with the configuration error (`CONFIG_INVALID`, e.g. a
   * `NATS_REPLICAS` the cluster cannot satisfy) that made `onConnect` give
   * up; retrying cannot fix it, so the process should stop.
   */
  whenFailed(): Promise<Error> {
    return this.failed$;
  }

  private set(ready: boolean, reason: string, level: 'info' | 'error' = 'info'): void {
    if (this.state.ready === ready && this.state.reason === reason) return;
    this.state = { ready, reason };
    this.options.log[level]({ ready, reason }, 'nats link state');
    if (!ready) return;
    this.everReady = true;
    this.resolveReady();
    this.resolveUsable(true);
  }

  private async run(): Promise<void> {
    const { servers, log } = this.options;
    const client = this.options.client ?? OPEN_CLIENT;
    const retryMs = this.options.retryMs ?? 1000;
    let nc: NatsConnection | undefined;
    for (let attempt = 0; !nc; attempt++) {
      if (this.closing) return;
      try {
        nc = await connect({
          ...clientConnectionOptions(client),
          servers: servers.split(',').map((s) => s.trim()),
          name: this.options.name ?? 'webhook-relay',
          // Each first attempt fails at once, so /ready can say why (refused login, bad certificate, no server) while this loop retries.
          waitOnFirstConnect: false,
          maxReconnectAttempts: -1,
          // Once connected, a login refused on a reconnect (credentials rotated on the server) is retried, not fatal.
          ignoreAuthErrorAbort: true,
          // A dead or unreachable server is noticed within about a second (two pings half a second apart
          // go unanswered), and another node is tried at once, so a publish retried by the edge finds
          // the new stream leader as soon as the cluster has one.
          pingInterval: 500,
          maxPingOut: 2,
          reconnectTimeWait: 250,
          reconnectJitter: 100,
          // No stack captured in advance for every request and its timeout (KV reads, forwarded calls,
          // nats.js's own API calls): an error's message names what failed, and the capture was about
          // 8 % of the main process's CPU in npm run bench:e2e while acks were confirmed by requests.
          noAsyncTraces: true,
          // A server that accepts TCP but never finishes the handshake (mutual TLS without a client certificate) fails the attempt after this.
          timeout: 5000,
        });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log.debug({ attempt, err: message }, 'nats connect attempt failed');
        const who = client.auth.method === 'none' ? 'no credentials given' : client.auth.from;
        this.set(false, isLoginRefused(e) ? `NATS refused the login (${who}): ${message}` : `cannot connect to NATS: ${message}`, 'error');
        // Retried forever (an operator may fix the server or the credentials), more slowly while nothing changes.
        await new Promise((r) => setTimeout(r, Math.min(retryMs * 2 ** Math.min(attempt, 4), 10 * retryMs)));
      }
    }
    if (this.closing) {
      await nc.close();
      return;
    }
    log.info({ server: nc.getServer(), auth: client.auth.method, tls: client.tls !== undefined }, 'connected to NATS');
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
      else if (s.type === 'error' && isLoginRefused(s.error)) this.set(false, `NATS refused the login on reconnect: ${s.error.message}`, 'error');
      else if (s.type === 'error' && s.error instanceof PermissionViolationError) {
        // A subject the server's permissions do not allow this user: name it, once per occurrence.
        const { operation, subject, queue } = s.error;
        this.options.log.error({ code: ErrorCodes.NATS_PERMISSION_DENIED, operation, subject, queue }, `NATS denied ${operation} on ${subject}`);
      }
    }
  }

  /** Stops reconnecting, flushes pending publishes and closes the connection. */
  async drain(): Promise<void> {
    this.closing = true;
    this.set(false, 'shutting down');
    this.resolveUsable(false);
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch {
      await nc.close();
    }
  }
}
