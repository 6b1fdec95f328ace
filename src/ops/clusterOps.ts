import { ErrorCodes } from '../errors/codes.js';
import { ServiceError } from '../errors/serviceError.js';
import { isOpsMessage, opsMessage, type OpsMessage, type OpsQuery } from './clusterProtocol.js';
import type { OpsMetrics } from './metrics.js';
import type { ActorsView, LiveEvent, LiveListener, OpsSource } from './opsSource.js';
import type { ServiceStats } from './stats.js';

/** Options of {@link ClusterOps}. */
export interface ClusterOpsOptions {
  /**
   * How long to wait for the primary's answer.
   * @default 5000
   */
  timeoutMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

function unavailable(message: string): ServiceError {
  return new ServiceError(ErrorCodes.OPS_UNAVAILABLE, message, { status: 503, expose: true, retriable: true, headers: { 'Retry-After': '1' } });
}

/**
 * The operating view of an edge worker: it asks the primary process (which
 * runs processing and the dependency actors) over node:cluster IPC, answers
 * the primary's requests for this worker's metrics, and receives the live
 * feed while it has clients of its own.
 */
export class ClusterOps implements OpsSource {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<LiveListener>();
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly onMessage = (m: unknown) => void this.handle(m);

  constructor(
    private readonly ownMetrics: OpsMetrics,
    options: ClusterOpsOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    process.on('message', this.onMessage);
  }

  private send(m: OpsMessage): boolean {
    if (!process.send || !process.connected) return false;
    process.send(m);
    return true;
  }

  private async handle(m: unknown): Promise<void> {
    if (!isOpsMessage(m)) return;
    if (m.kind === 'response') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(unavailable(`the primary process could not answer: ${m.error}`));
    } else if (m.kind === 'collect') {
      this.send(opsMessage({ kind: 'collected', id: m.id, metrics: await this.ownMetrics.json() }));
    } else if (m.kind === 'events') {
      for (const l of this.listeners) {
        try {
          l(m.events);
        } catch {
          // One listener's failure must not stop the others.
        }
      }
    }
  }

  private request<T>(query: OpsQuery): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(unavailable(`the primary process did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      if (!this.send(opsMessage({ kind: 'request', id, query }))) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(unavailable('no connection to the primary process'));
      }
    });
  }

  stats(): Promise<ServiceStats> {
    return this.request('stats');
  }

  actors(): Promise<ActorsView> {
    return this.request('actors');
  }

  recent(): Promise<LiveEvent[]> {
    return this.request('recent');
  }

  metrics(): Promise<string> {
    return this.request('metrics');
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.send(opsMessage({ kind: 'watch', on: true }));
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.send(opsMessage({ kind: 'watch', on: false }));
    };
  }

  stop(): void {
    process.off('message', this.onMessage);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(unavailable('the service is stopping'));
      this.pending.delete(id);
    }
    if (this.listeners.size > 0) this.send(opsMessage({ kind: 'watch', on: false }));
    this.listeners.clear();
  }
}
