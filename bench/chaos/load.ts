/** Options of {@link sendOrders}. */
export interface OrderLoadOptions {
  /** The service's base URL (loopback). */
  url: string;
  /** Prefix of delivery ids and order numbers, unique per run and fault. */
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
}

/** What was sent and what the service acknowledged. */
export interface OrderLoadResult {
  /** Delivery ids sent (at least one attempt). */
  sent: string[];
  /** Delivery id → stream sequence of the 2xx answer. */
  acknowledged: Map<string, number>;
}

/** The order number of a delivery id. */
export function orderNumberOf(id: string): string {
  return id.toUpperCase();
}

function orderBody(id: string): string {
  const n = orderNumberOf(id);
  return JSON.stringify({ embeds: [{ author: { name: `Chaos ${n}` }, description: `Product\nChaos widget\nPrice\n$1.00\nOrder Number\n${n}\nEmail\nchaos@example.com` }] });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends a steady stream of unique `orders` webhooks with delivery ids, paced
 * at `rate` per second, bounded in count and time. A webhook without a 2xx
 * answer is sent again with the same id (up to `attempts`), as senders do.
 */
export async function sendOrders(o: OrderLoadOptions): Promise<OrderLoadResult> {
  const maxCount = o.maxCount ?? Math.ceil((o.rate * o.durationMs) / 1000);
  const attempts = o.attempts ?? 5;
  const started = Date.now();
  const stopAt = started + o.durationMs;
  const sent: string[] = [];
  const acknowledged = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  const deliver = async (id: string) => {
    for (let i = 0; i < attempts; i++) {
      const res = await fetch(`${o.url}/webhooks/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id },
        body: orderBody(id),
        signal: AbortSignal.timeout(10_000),
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
    const p = deliver(id).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { sent, acknowledged };
}
