import { ClosedConnectionError, DrainingConnectionError, InvalidArgumentError, PermissionViolationError, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { connectionInbox } from './clientOptions.js';

/** JetStream's answer to a publish. */
export interface PubAckJson {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code: number; err_code?: number; description: string };
}

/** Why {@link PublishAckMux.publish} did not get an ack. */
export type AckFailure =
  /** No ack within the timeout. */
  | { kind: 'timeout' }
  /** No stream listens on the subject. */
  | { kind: 'noResponders' }
  /** The connection is closed or draining. */
  | { kind: 'closed' }
  /** Payload and headers are larger than the server's `max_payload`; nothing was sent. */
  | { kind: 'tooLarge'; maxPayload: number | undefined }
  /** The client refused to send it for another reason. */
  | { kind: 'failed'; message: string }
  /** The server's permissions do not let this user publish to the subject. */
  | { kind: 'denied'; subject: string }
  /** JetStream answered with an API error (`err_code` such as 10077, maximum messages exceeded). */
  | { kind: 'api'; code: number; errCode: number | undefined; description: string };

/** Rejection value of {@link PublishAckMux.publish}. */
export class AckError extends Error {
  constructor(readonly failure: AckFailure) {
    super(failure.kind === 'api' ? failure.description : failure.kind === 'failed' ? failure.message : failure.kind === 'denied' ? `NATS denied publish to ${failure.subject}` : failure.kind);
    this.name = 'AckError';
  }
}

interface Outgoing {
  subject: string;
  data: Uint8Array;
  reply: string;
  headers: MsgHdrs | undefined;
}

interface Pending {
  subject: string;
  deadline: number;
  /** Settles the waiting promise with the answer. */
  answer: (msg: Msg) => void;
  reject: (e: AckError) => void;
}

/**
 * Publishes to JetStream with one shared reply subscription for every ack,
 * instead of a request (inbox entry, timer and pre-built errors) per message,
 * and with the publishes of one event-loop turn written to the socket
 * together (one write instead of one per webhook). Acks still arrive per
 * message and each publish resolves only on its own ack. It stays because
 * `npm run bench:ab` (bench/publishAb.ts) measures it about 1.5× as fast as
 * `js.publish` on a `noAsyncTraces` connection under the ingest load.
 */
export class PublishAckMux {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;
  private outbox: Outgoing[] = [];
  private flushScheduled = false;

  /**
   * @param timeoutMs how long to wait for each ack
   * @param sweepMs how often expired acks are looked for
   */
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
    sweepMs = 100,
  ) {
    this.prefix = `${connectionInbox(nc)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, { callback: (_err, msg) => this.onReply(msg) });
    this.sweeper = setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
    void this.sub.closed.then(() => this.failAll({ kind: 'closed' }));
    void this.watchDenials();
  }

  /** A publish the server's permissions refuse gets no ack: it fails at once, naming the subject, instead of at its timeout. */
  private async watchDenials(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'error' || !(s.error instanceof PermissionViolationError) || s.error.operation !== 'publish') continue;
      const subject = s.error.subject;
      for (const [token, p] of this.pending) {
        if (p.subject !== subject) continue;
        this.pending.delete(token);
        p.reject(new AckError({ kind: 'denied', subject }));
      }
    }
  }

  /** Number of publishes waiting for their ack. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Publishes `data` to `subject` with `headers` and resolves on JetStream's ack.
   * @throws AckError on timeout, no responders, a closed connection, or an API error.
   */
  publish(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<{ seq: number; duplicate: boolean }> {
    return this.ask(subject, data, headers, (msg, resolve, reject) => {
      const ack = readPubAck(msg);
      if ('kind' in ack) reject(new AckError(ack));
      else resolve(ack);
    });
  }

  /**
   * Sends `data` to `subject` with a reply subject of the shared
   * subscription and resolves on the answer: an acknowledgement JetStream
   * confirms (`+ACK` to a message's reply subject, what `JsMsg.ackAck()`
   * does without a request, a timer and two pre-built errors per message).
   * @throws AckError on timeout, no responders or a closed connection.
   */
  confirm(subject: string, data: Uint8Array): Promise<void> {
    return this.ask(subject, data, undefined, (msg, resolve, reject) => {
      if (msg.headers?.code === 503) reject(new AckError({ kind: 'noResponders' }));
      else resolve();
    });
  }

  private ask<T>(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, answer: (msg: Msg, resolve: (v: T) => void, reject: (e: AckError) => void) => void): Promise<T> {
    if (this.nc.isClosed() || this.sub.isClosed()) return Promise.reject(new AckError({ kind: 'closed' }));
    const token = (this.next++).toString(36);
    return new Promise((resolve, reject) => {
      this.pending.set(token, { subject, deadline: Date.now() + this.timeoutMs, answer: (msg) => answer(msg, resolve, reject), reject });
      this.enqueue({ subject, data, reply: this.prefix + token, headers });
    });
  }

  private enqueue(m: Outgoing): void {
    this.outbox.push(m);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands this turn's publishes to the client in one go, so they leave in one socket write. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    for (const m of batch) {
      try {
        this.nc.publish(m.subject, m.data, { reply: m.reply, headers: m.headers });
      } catch (e) {
        const token = m.reply.slice(this.prefix.length);
        const p = this.pending.get(token);
        this.pending.delete(token);
        p?.reject(new AckError(this.refusal(e)));
      }
    }
  }

  /** Why the client refused to publish, from what `nc.publish` threw. */
  private refusal(e: unknown): AckFailure {
    if (e instanceof ClosedConnectionError || e instanceof DrainingConnectionError || this.nc.isClosed()) return { kind: 'closed' };
    // nats.js checks the size against the server's INFO before writing anything.
    if (e instanceof InvalidArgumentError && e.message.includes('max_payload')) return { kind: 'tooLarge', maxPayload: this.nc.info?.max_payload };
    return { kind: 'failed', message: (e as Error)?.message ?? String(e) };
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const p = this.pending.get(token);
    if (!p) return;
    this.pending.delete(token);
    p.answer(msg);
  }

  private sweep(): void {
    const now = Date.now();
    // Deadlines grow with insertion order, so the expired ones come first.
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(new AckError({ kind: 'timeout' }));
    }
  }

  private failAll(failure: AckFailure): void {
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      p.reject(new AckError(failure));
    }
  }

  /** Stops the sweeper and the reply subscription; waiting publishes fail as closed. */
  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    this.failAll({ kind: 'closed' });
  }
}

/** The stored message's sequence from JetStream's answer to a publish, or why there is none. */
function readPubAck(msg: Msg): { seq: number; duplicate: boolean } | AckFailure {
  if (msg.headers?.code === 503) return { kind: 'noResponders' };
  let ack: PubAckJson;
  try {
    ack = msg.json<PubAckJson>();
  } catch {
    return { kind: 'api', code: 500, errCode: undefined, description: 'unreadable publish ack' };
  }
  if (ack.error) return { kind: 'api', code: ack.error.code, errCode: ack.error.err_code, description: ack.error.description };
  if (typeof ack.seq !== 'number' || !ack.stream) return { kind: 'api', code: 500, errCode: undefined, description: 'publish ack without a sequence' };
  return { seq: ack.seq, duplicate: ack.duplicate === true };
}
