import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** A replica not heard from for this long (nanoseconds, as `active` counts) no longer counts toward the quorum. */
const REPLICA_SILENT_NS = 5e9;

/** Options of {@link StreamLeaderProbe}. */
export interface StreamLeaderProbeOptions {
  /**
   * How long an answer is reused, so `/ready` stays cheap under frequent probes.
   * @default 1000
   */
  cacheMs?: number;
  /**
   * How long to wait for the stream info; no answer within it counts as no leader.
   * @default 1000
   */
  timeoutMs?: number;
  /** Monotonic clock in ms. @default performance.now */
  now?: () => number;
}

/** Whether a stream can take writes right now, and why not. */
export interface LeaderState {
  ready: boolean;
  reason: string;
}

/**
 * Asks JetStream whether a stream has a leader (`$JS.API.STREAM.INFO`). In a
 * cluster a stream without quorum has no leader and every publish to it
 * fails, while the client connection stays up; this is what `/ready` needs
 * to see. A non-clustered server's stream always has its one server.
 */
export class StreamLeaderProbe {
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private jsm: { nc: NatsConnection; jsm: Promise<JetStreamManager> } | undefined;
  private last: { at: number; state: LeaderState } | undefined;
  private pending: Promise<LeaderState> | undefined;

  constructor(
    private readonly stream: string,
    options: StreamLeaderProbeOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.now = options.now ?? (() => performance.now());
  }

  /** The stream's state over `nc`, answered from the cache while it is fresh; never throws. */
  check(nc: NatsConnection): Promise<LeaderState> {
    if (this.last && this.now() - this.last.at < this.cacheMs) return Promise.resolve(this.last.state);
    this.pending ??= this.ask(nc).then((state) => {
      this.last = { at: this.now(), state };
      this.pending = undefined;
      return state;
    });
    return this.pending;
  }

  private async ask(nc: NatsConnection): Promise<LeaderState> {
    if (this.jsm?.nc !== nc) this.jsm = { nc, jsm: jetstreamManager(nc, { timeout: this.timeoutMs, checkAPI: false }) };
    try {
      const info = await (await this.jsm.jsm).streams.info(this.stream);
      if (info.cluster && !info.cluster.leader) return { ready: false, reason: `stream ${this.stream} has no leader` };
      // A leader that has just lost its peers still names itself for a few
      // seconds; without a quorum of current replicas no publish succeeds.
      const replicas = info.cluster?.replicas ?? [];
      const current = 1 + replicas.filter((r) => r.current && !r.offline && r.active < REPLICA_SILENT_NS).length;
      if (info.cluster && current < Math.floor((replicas.length + 1) / 2) + 1) {
        return { ready: false, reason: `stream ${this.stream} has no leader with a quorum (${current} of ${replicas.length + 1} replicas current)` };
      }
      return { ready: true, reason: 'connected' };
    } catch (e) {
      return { ready: false, reason: `stream ${this.stream} does not answer: ${(e as Error).message}` };
    }
  }
}
