import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { orderNumberOf, type OrderLoadResult } from './load.js';

/** What one fault did to the webhooks sent around it. */
export interface FaultFigures {
  fault: string;
  sent: number;
  /** Answered 2xx. */
  acknowledged: number;
  /** Sent webhooks whose order is in the `orders` bucket, written by that webhook. */
  stored: number;
  /** Acknowledged but not stored. */
  lost: number;
  /** Acknowledged webhooks processed from another stream copy than the acknowledged one, or whose order another webhook wrote. */
  storedTwice: number;
  /** Stored orders whose status in `webhook-status` is not `done`. */
  notDone: number;
  /** Messages left in `WEBHOOKS` once processing is over. */
  leftovers: number;
}

/** Looks `ids` up `width` at a time. */
async function eachInBatches(ids: string[], width: number, f: (id: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < ids.length; i += width) await Promise.all(ids.slice(i, i + width).map(f));
}

/** Counts, from the buckets and the stream, what became of `load`. */
export async function tally(nc: NatsConnection, fault: string, load: OrderLoadResult): Promise<FaultFigures> {
  const kvm = new Kvm(nc);
  const orders = await kvm.open('orders');
  const statuses = await kvm.open('webhook-status');
  let stored = 0;
  let lost = 0;
  let storedTwice = 0;
  let notDone = 0;
  await eachInBatches(load.sent, 100, async (id) => {
    const result = await orders.get(orderNumberOf(id));
    const ackSeq = load.acknowledged.get(id);
    const writer = result && result.operation === 'PUT' ? result.json<{ webhookId?: string }>().webhookId : undefined;
    if (writer === undefined) {
      if (ackSeq !== undefined) lost++;
      return;
    }
    stored++;
    if (writer !== id) storedTwice++;
    const s = (await statuses.get(`orders.${id}`))?.json<{ status: string; seq: number }>();
    if (s?.status !== 'done') notDone++;
    if (ackSeq !== undefined && s && s.seq !== ackSeq) storedTwice++;
  });
  const leftovers = (await (await jetstreamManager(nc)).streams.info('WEBHOOKS')).state.messages;
  return { fault, sent: load.sent.length, acknowledged: load.acknowledged.size, stored, lost, storedTwice, notDone, leftovers };
}

/** Whether a fault's figures show a defect. */
export function defective(f: FaultFigures): boolean {
  return f.lost > 0 || f.storedTwice > 0 || f.notDone > 0 || f.leftovers > 0;
}

/** The figures as a fixed-width table. */
export function table(rows: readonly FaultFigures[]): string {
  const cols = ['fault', 'sent', 'acknowledged', 'stored', 'lost', 'storedTwice', 'notDone', 'leftovers'] as const;
  const heads = ['fault', 'sent', 'acked', 'stored', 'lost', 'twice', 'not done', 'leftovers'];
  const cells = [heads, ...rows.map((r) => cols.map((c) => String(r[c])))];
  const widths = heads.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
