import type { LeaseEntry, LeaseStore, LeaseValue } from '../../src/dependencies/ownership/lease.js';

/** An in-memory KV with nats's revision rules: one sequence for the bucket, CAS on the key's revision. */
export class MemoryKv implements LeaseStore {
  private seq = 0;
  entry: { value: string; revision: number; operation: 'PUT' | 'DEL' } | undefined;

  async get(): Promise<LeaseEntry | null> {
    const e = this.entry;
    return e ? { revision: e.revision, operation: e.operation, json: <T>() => JSON.parse(e.value) as T } : null;
  }
  async create(_key: string, value: string): Promise<number> {
    if (this.entry?.operation === 'PUT') throw Object.assign(new Error('wrong last sequence: 1'), { code: 10071 });
    return this.write(value, 'PUT');
  }
  async update(_key: string, value: string, revision: number): Promise<number> {
    if (this.entry?.revision !== revision) throw Object.assign(new Error(`wrong last sequence: ${this.entry?.revision}`), { code: 10071 });
    return this.write(value, 'PUT');
  }
  async delete(_key: string, options: { previousSeq?: number } = {}): Promise<void> {
    if (options.previousSeq !== undefined && this.entry?.revision !== options.previousSeq) throw Object.assign(new Error('wrong last sequence'), { code: 10071 });
    this.write('', 'DEL');
  }
  holder(): string | undefined {
    return this.entry?.operation === 'PUT' ? (JSON.parse(this.entry.value) as LeaseValue).instance : undefined;
  }
  private write(value: string, operation: 'PUT' | 'DEL'): number {
    this.entry = { value, revision: ++this.seq, operation };
    return this.seq;
  }
}
