import type { LiveEvent, LiveListener } from './opsReader.js';

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  /**
   * How often buffered events go out as one batch.
   * @default 100
   */
  flushMs?: number;
  /**
   * Most webhook events per batch; the rest are counted in a `suppressed` event.
   * @default 50
   */
  maxWebhookEventsPerFlush?: number;
  /**
   * How often a `snapshot` goes out while someone listens.
   * @default 2000
   */
  snapshotMs?: number;
  /** Builds a `snapshot` event; without it, no snapshots go out. */
  snapshot?: () => Promise<LiveEvent>;
}

/**
 * Buffers live events and hands them to listeners in batches, so thousands
 * of webhooks per second cost one delivery per flush interval. Webhook
 * events beyond a cap per batch are only counted; actor events always go
 * out. Nothing is buffered while no one listens.
 */
export class LiveFeed {
  private readonly listeners = new Set<LiveListener>();
  private buffer: LiveEvent[] = [];
  private webhookEvents = 0;
  private suppressed = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private snapshotting = false;

  constructor(private readonly o: LiveFeedOptions = {}) {}

  /** Whether anyone listens (producers may skip building events otherwise). */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Adds an event to the next batch. */
  push(event: LiveEvent): void {
    if (!this.active) return;
    if (event.type === 'webhook') {
      if (this.webhookEvents >= (this.o.maxWebhookEventsPerFlush ?? 50)) {
        this.suppressed++;
        return;
      }
      this.webhookEvents++;
    }
    this.buffer.push(event);
    this.flushTimer ??= setTimeout(() => this.flush(), this.o.flushMs ?? 100);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const batch = this.buffer;
    if (this.suppressed > 0) batch.push({ type: 'suppressed', count: this.suppressed, at: Date.now() });
    this.buffer = [];
    this.webhookEvents = 0;
    this.suppressed = 0;
    if (batch.length > 0) this.deliver(batch);
  }

  private deliver(batch: readonly LiveEvent[]): void {
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch {
        // One listener's failure must not stop the others.
      }
    }
  }

  private async snapshot(): Promise<void> {
    if (this.snapshotting || !this.active || !this.o.snapshot) return;
    this.snapshotting = true;
    try {
      const event = await this.o.snapshot();
      if (this.active) this.deliver([event]);
    } catch {
      // The next tick tries again; the page keeps its last picture meanwhile.
    } finally {
      this.snapshotting = false;
    }
  }

  /**
   * Receives batches from now on.
   * @returns a function that unsubscribes
   */
  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1 && this.o.snapshot) {
      this.snapshotTimer = setInterval(() => void this.snapshot(), this.o.snapshotMs ?? 2000);
      this.snapshotTimer.unref();
    }
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0) return;
      this.stopTimers();
    };
  }

  private stopTimers(): void {
    clearInterval(this.snapshotTimer);
    clearTimeout(this.flushTimer);
    this.snapshotTimer = undefined;
    this.flushTimer = undefined;
    this.buffer = [];
    this.webhookEvents = 0;
    this.suppressed = 0;
  }

  /** Drops every listener and timer. */
  stop(): void {
    this.listeners.clear();
    this.stopTimers();
  }
}
