import { createHash } from 'node:crypto';

/** What the chaos load sends to one source, and where its result lands. */
export interface ChaosWebhooks {
  /** The source (`POST /webhooks/<source>`, consumer and KV bucket of the same name). */
  readonly source: 'orders' | 'audiobooks';
  /** The JSON body of the webhook with delivery id `id`. */
  bodyOf(id: string): string;
  /** The key its result is stored under in the source's bucket. */
  keyOf(id: string): string;
}

/** `orders` webhooks: one unique order number per delivery id. */
export const ORDER_WEBHOOKS: ChaosWebhooks = {
  source: 'orders',
  keyOf: (id) => id.toUpperCase(),
  bodyOf(id) {
    const n = id.toUpperCase();
    return JSON.stringify({ embeds: [{ author: { name: `Chaos ${n}` }, description: `Product\nChaos widget\nPrice\n$1.00\nOrder Number\n${n}\nEmail\nchaos@example.com` }] });
  },
};

const ASIN_DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A valid ASIN (`B` and nine letters or digits) of its own for each delivery id. */
function asinOf(id: string): string {
  const digest = createHash('sha256').update(id).digest();
  return `B${[...digest.subarray(0, 9)].map((b) => ASIN_DIGITS[b % ASIN_DIGITS.length]).join('')}`;
}

/** `audiobooks` webhooks: one Audnex lookup each, of an ASIN of their own (the record's key). */
export const AUDIOBOOK_WEBHOOKS: ChaosWebhooks = {
  source: 'audiobooks',
  keyOf: asinOf,
  bodyOf: (id) => JSON.stringify({ asin: asinOf(id) }),
};

/** Options of {@link sendWebhooks}. */
export interface LoadOptions {
  /** Base URLs of the service's instances (loopback); attempts go round them. */
  urls: readonly string[];
  webhooks: ChaosWebhooks;
  /** Prefix of delivery ids, unique per run and fault. */
  prefix: string;
  /** Webhooks per second, all senders together. */
  rate: number;
  /** How long to send. */
  durationMs: number;
  /**
   * Webhooks at most, whatever the duration.
   * @default rate × duration
   */
  maxCount?: number;
  /**
   * Attempts per webhook, as a sender retries a refused or unanswered
   * delivery with the same id.
   * @default 5
   */
  attempts?: number;
  /**
   * How long one attempt waits for its answer.
   * @default 10000
   */
  attemptTimeoutMs?: number;
}

/** What was sent and what the service acknowledged. */
export interface LoadResult {
  /** Delivery ids sent (at least one attempt). */
  sent: string[];
  /** Delivery id → stream sequence of the 2xx answer. */
  acknowledged: Map<string, number>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends a steady stream of unique webhooks with delivery ids, paced at
 * `rate` per second, bounded in count and time. A webhook without a 2xx
 * answer is sent again with the same id (up to `attempts`), as senders do,
 * each attempt to the next instance, as a load balancer would.
 */
export async function sendWebhooks(o: LoadOptions): Promise<LoadResult> {
  const maxCount = o.maxCount ?? Math.ceil((o.rate * o.durationMs) / 1000);
  const attempts = o.attempts ?? 5;
  const started = Date.now();
  const stopAt = started + o.durationMs;
  const sent: string[] = [];
  const acknowledged = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const deliver = async (id: string, n: number) => {
    for (let i = 0; i < attempts; i++) {
      const url = o.urls[(n + i) % o.urls.length]!;
      const res = await fetch(`${url}/webhooks/${o.webhooks.source}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id },
        body: o.webhooks.bodyOf(id),
        signal: AbortSignal.timeout(o.attemptTimeoutMs ?? 10_000),
      }).catch(() => undefined);
      if (res && res.status >= 200 && res.status < 300) {
        acknowledged.set(id, ((await res.json()) as { seq: number }).seq);
        return;
      }
      await res?.body?.cancel();
      // The service may be down for a few seconds during a fault.
      await pause(500 * (i + 1));
    }
  };
  for (let n = 0; n < maxCount && Date.now() < stopAt; n++) {
    const due = started + (n * 1000) / o.rate;
    if (due > Date.now()) await pause(due - Date.now());
    const id = `${o.prefix}-${n}`;
    sent.push(id);
    const p = deliver(id, n).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { sent, acknowledged };
}
