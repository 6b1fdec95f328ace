import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Log } from '../log.js';
import type { Deps } from '../dependencies/mod.js';
import { pullAllowance, type GateSource } from './gate.js';
import type { SourceHandler } from './handler.js';
import type { WebhookMessageProcessor } from './messageProcessor.js';
import { WEBHOOKS_STREAM, WebhookHeaders } from '../bus/names.js';

/** Options of one source's consumer. */
export interface SourceConsumerOptions {
  js: JetStreamClient;
  handler: SourceHandler;
  processor: WebhookMessageProcessor;
  deps: Deps;
  /** Breaker states to pause on; undefined when the handler needs none. */
  gate: GateSource | undefined;
  /** Messages in flight at most (`<SOURCE>_CONCURRENCY`). */
  concurrency: number;
  /** The consumer's `ack_wait` (`ACK_WAIT`): held messages are reported in progress every third of it. */
  ackWaitMs: number;
  log: Log;
  /**
   * How long one pull request waits for messages.
   * @default 2000
   */
  pullExpiresMs?: number;
}

/**
 * Pulls one source's webhooks from its durable consumer and runs up to
 * `concurrency` of them at a time. It pulls only as many as it can start
 * now, and none while a dependency the handler needs is open, so waiting
 * webhooks stay in the stream without spending deliveries.
 */
export class SourceConsumer {
  private running = false;
  private readonly inFlight = new Set<JsMsg>();
  /** Aborts every running handler when stop() has waited long enough; one for all. */
  private abort = new AbortController();
  /** Pulled, not started yet (only for pipelines that need no dependency). */
  private waiting: JsMsg[] = [];
  private current: ConsumerMessages | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** When each held message (waiting or in flight) was delivered or last reported in progress. */
  private readonly touched = new Map<JsMsg, number>();

  constructor(private readonly o: SourceConsumerOptions) {}

  /** The source name. */
  get source(): string {
    return this.o.handler.source;
  }

  /** Messages being handled now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Starts pulling. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    const needs = new Set<string>(this.o.handler.needs);
    this.unsubscribe = this.o.gate?.subscribe((e) => {
      if (e.type === 'dep.transition' && needs.has(e.dependency)) this.poke();
    });
    // One timer for all held messages: a handler of any length, and a message
    // waiting for a slot, stays this process's until it dies; then it comes
    // back after one ack_wait.
    const every = Math.max(250, Math.floor(this.o.ackWaitMs / 3));
    this.heartbeat = setInterval(() => this.reportWorking(every), every);
    this.loop = this.run();
  }

  /** `working()` for every message held at least `every` ms since it was delivered or last reported. */
  private reportWorking(every: number): void {
    const now = Date.now();
    for (const [msg, at] of this.touched) {
      if (now - at < every) continue;
      msg.working();
      this.touched.set(msg, now);
    }
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => this.poke(), ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { js, log } = this.o;
    let consumer: Consumer | undefined;
    while (this.running) {
      const allowance = pullAllowance(this.o.gate, this.o.handler.needs, this.o.concurrency);
      if (allowance.maxInFlight === 0) {
        log.debug({ source: this.source, blockedBy: allowance.blockedBy }, 'paused: dependency open');
        await this.sleep(allowance.retryAfterMs);
        continue;
      }
      // A pipeline that needs no dependency can never be paused, so it pulls
      // the next batch while the current one runs; one that may be paused
      // pulls only what it can start, so waiting webhooks spend no deliveries.
      const capacity = allowance.maxInFlight + (this.o.handler.needs.length === 0 ? allowance.maxInFlight : 0);
      const held = this.inFlight.size + this.waiting.length;
      const want = capacity - held;
      // Pull in batches of at least half the room: one pull request per
      // finished message would make the round trip the bottleneck.
      if (want <= 0 || (held > 0 && want < Math.ceil(capacity / 2))) {
        await this.sleep(1000);
        continue;
      }
      try {
        consumer ??= await js.consumers.get(WEBHOOKS_STREAM, this.source);
        const batch = await consumer.fetch({ max_messages: want, expires: this.o.pullExpiresMs ?? 2000 });
        this.current = batch;
        for await (const msg of batch) {
          if (!this.running) {
            msg.nak();
            continue;
          }
          this.touched.set(msg, Date.now());
          this.waiting.push(msg);
          this.startWaiting();
        }
      } catch (e) {
        if (!this.running) break;
        consumer = undefined;
        log.warn({ err: e, source: this.source }, 'pull failed; retrying');
        await this.sleep(1000);
      } finally {
        this.current = undefined;
      }
    }
  }

  /** Starts pulled messages while there are free slots. */
  private startWaiting(): void {
    if (!this.running) return;
    const { maxInFlight } = pullAllowance(this.o.gate, this.o.handler.needs, this.o.concurrency);
    while (this.waiting.length > 0 && this.inFlight.size < Math.max(1, maxInFlight)) this.dispatch(this.waiting.shift()!);
  }

  private dispatch(msg: JsMsg): void {
    this.inFlight.add(msg);
    void this.o.processor
      .process(msg, this.o.handler, this.o.deps, this.abort.signal)
      .catch((e) => this.o.log.error({ err: e, source: this.source, seq: msg.seq }, 'processing crashed'))
      .finally(() => {
        this.inFlight.delete(msg);
        this.touched.delete(msg);
        this.startWaiting();
        this.poke();
      });
  }

  /**
   * Stops pulling, waits up to `timeoutMs` for running handlers, then aborts
   * the rest and naks them so they are redelivered at once.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    clearInterval(this.heartbeat);
    this.current?.stop();
    this.poke();
    await this.loop;
    for (const msg of this.waiting.splice(0)) {
      this.touched.delete(msg);
      msg.nak();
    }
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (this.inFlight.size > 0) this.abort.abort();
    for (const msg of this.inFlight) {
      msg.nak();
      this.o.log.info({ source: this.source, seq: msg.seq, id: msg.headers?.get(WebhookHeaders.Id) }, 'handed back for redelivery on shutdown');
    }
  }
}
