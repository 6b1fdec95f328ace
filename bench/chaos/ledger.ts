import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ChaosWebhooks, LoadResult } from './load.js';
import { textTable } from './textTable.js';

/** What one fault did to the webhooks sent around it. */
export interface FaultFigures {
  fault: string;
  sent: number;
  /** Answered 2xx. */
  acknowledged: number;
  /** Sent webhooks whose result is in the source's bucket, written by that webhook. */
  stored: number;
  /** Acknowledged but not stored. */
  lost: number;
  /** Of the lost ones, those dead-lettered: how many per last error code. */
  deadLettered: Record<string, number>;
  /** Acknowledged webhooks processed from another stream copy than the acknowledged one, or whose result another webhook wrote. */
  storedTwice: number;
  /** Stored results whose webhook's status in `webhook-status` is not `done`. */
  notDone: number;
  /** Messages left in `WEBHOOKS` once processing is over. */
  leftovers: number;
}

/** Looks `ids` up `width` at a time. */
async function eachInBatches(ids: string[], width: number, f: (id: string) => Promise<void>): Promise<void> {
  for (let i = 0; i < ids.length; i += width) await Promise.all(ids.slice(i, i + width).map(f));
}

/** Counts, from the buckets and the stream, what became of `load` (webhooks of `webhooks.source`). */
export async function tally(nc: NatsConnection, fault: string, webhooks: ChaosWebhooks, load: LoadResult): Promise<FaultFigures> {
  const kvm = new Kvm(nc);
  const results = await kvm.open(webhooks.source);
  const statuses = await kvm.open('webhook-status');
  let stored = 0;
  let lost = 0;
  let storedTwice = 0;
  let notDone = 0;
  const deadLettered: Record<string, number> = {};
  await eachInBatches(load.sent, 100, async (id) => {
    const result = await results.get(webhooks.keyOf(id));
    const ackSeq = load.acknowledged.get(id);
    const writer = result && result.operation === 'PUT' ? result.json<{ webhookId?: string }>().webhookId : undefined;
    if (writer === undefined) {
      if (ackSeq === undefined) return;
      lost++;
      const s = (await statuses.get(`${webhooks.source}.${id}`))?.json<{ status: string; lastError?: { code?: string } }>();
      if (s?.status === 'dead') {
        const code = s.lastError?.code ?? 'unknown';
        deadLettered[code] = (deadLettered[code] ?? 0) + 1;
      }
      return;
    }
    stored++;
    if (writer !== id) storedTwice++;
    const s = (await statuses.get(`${webhooks.source}.${id}`))?.json<{ status: string; seq: number }>();
    if (s?.status !== 'done') notDone++;
    if (ackSeq !== undefined && s && s.seq !== ackSeq) storedTwice++;
  });
  const leftovers = (await (await jetstreamManager(nc)).streams.info('WEBHOOKS')).state.messages;
  return { fault, sent: load.sent.length, acknowledged: load.acknowledged.size, stored, lost, deadLettered, storedTwice, notDone, leftovers };
}

/** Whether a fault's figures show a defect. */
export function defective(f: FaultFigures): boolean {
  return f.lost > 0 || f.storedTwice > 0 || f.notDone > 0 || f.leftovers > 0;
}

/** The figures as a fixed-width table (`dead`: of the lost ones, those dead-lettered). */
export function table(rows: readonly FaultFigures[]): string {
  const heads = ['fault', 'sent', 'acked', 'stored', 'lost', 'dead', 'twice', 'not done', 'leftovers'];
  const dead = (r: FaultFigures) => Object.values(r.deadLettered).reduce((a, b) => a + b, 0);
  return textTable(heads, rows.map((r) => [r.fault, r.sent, r.acknowledged, r.stored, r.lost, dead(r), r.storedTwice, r.notDone, r.leftovers].map(String)));
}
