import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { kvKey } from './kvKey.js';

/** A finished step of one delivery of a webhook, as journaled in `webhook-steps`. */
export interface StepEntry {
  /** The webhook's delivery id and the step's name (a key alone could be read two ways when either holds a dot). */
  id: string;
  step: string;
  /** The `WEBHOOKS` sequence of the delivery that finished it. */
  seq: number;
  /** {@link stepInputHash} of the input it ran with. */
  input: string;
  /** What it returned. */
  value: unknown;
  /** ISO-8601. */
  at: string;
}

/** Where finished steps of a webhook are kept (`webhook-steps`, key `<source>.<id>.<step>`). */
export interface StepJournal {
  get(source: string, id: string, step: string): Promise<StepEntry | undefined>;
  put(source: string, id: string, step: string, entry: StepEntry): Promise<void>;
  /** The steps journaled for the delivery of sequence `seq`. */
  finished(source: string, id: string, seq: number): Promise<string[]>;
}

/** A step's input, digested: a journaled result is replayed only for the same input. */
export function stepInputHash(input: unknown): string {
  return createHash('sha256').update(JSON.stringify(input ?? null)).digest('base64url');
}

const stepKey = (source: string, id: string, step: string) => `${source}.${kvKey(id)}.${kvKey(step)}`;

/** Whether `v` has the shape of a {@link StepEntry} (a journal entry is read back from NATS, so it is checked). */
function isStepEntry(v: unknown): v is StepEntry {
  const e = v as Partial<StepEntry> | null;
  return (
    typeof e === 'object' && e !== null && typeof e.id === 'string' && typeof e.step === 'string' && Number.isSafeInteger(e.seq) && typeof e.input === 'string' && 'value' in e
  );
}

/** The journal in a KV bucket. An entry that is not a {@link StepEntry} is ignored. */
export function kvStepJournal(kv: KV): StepJournal {
  return {
    async get(source, id, step) {
      const e = await kv.get(stepKey(source, id, step));
      if (!e || e.operation !== 'PUT') return undefined;
      let v: unknown;
      try {
        v = e.json();
      } catch {
        return undefined;
      }
      return isStepEntry(v) && v.id === id && v.step === step ? v : undefined;
    },
    async put(source, id, step, entry) {
      await kv.put(stepKey(source, id, step), JSON.stringify(entry));
    },
    async finished(source, id, seq) {
      const prefix = `${source}.${kvKey(id)}.`;
      const names: string[] = [];
      for await (const key of await kv.keys(`${prefix}>`)) {
        const e = await kv.get(key);
        if (!e || e.operation !== 'PUT') continue;
        try {
          const v: unknown = e.json();
          if (isStepEntry(v) && v.id === id && v.seq === seq) names.push(v.step);
        } catch {
          // not an entry
        }
      }
      return names.sort();
    },
  };
}
