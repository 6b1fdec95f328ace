import type { MetricsJson } from './metrics.js';
import type { LiveEvent } from './opsSource.js';

/** Tag of every operating-view message between the primary and the edge workers. */
export const OPS_CHANNEL = 'webhook-relay:ops';

/** What a worker may ask the primary for. */
export type OpsQuery = 'stats' | 'actors' | 'recent' | 'metrics';

/** Messages on {@link OPS_CHANNEL}. */
export type OpsMessage =
  /** worker → primary: answer `query`, reply with the same id. */
  | { channel: typeof OPS_CHANNEL; kind: 'request'; id: number; query: OpsQuery }
  /** primary → worker */
  | { channel: typeof OPS_CHANNEL; kind: 'response'; id: number; ok: true; value: unknown }
  | { channel: typeof OPS_CHANNEL; kind: 'response'; id: number; ok: false; error: string }
  /** primary → worker: send your metrics (as JSON), reply with the same id. */
  | { channel: typeof OPS_CHANNEL; kind: 'collect'; id: number }
  /** worker → primary */
  | { channel: typeof OPS_CHANNEL; kind: 'collected'; id: number; metrics: MetricsJson }
  /** worker → primary: whether it has live-feed clients (the primary sends events only then). */
  | { channel: typeof OPS_CHANNEL; kind: 'watch'; on: boolean }
  /** primary → watching workers: one batch of the live feed. */
  | { channel: typeof OPS_CHANNEL; kind: 'events'; events: readonly LiveEvent[] };

/** Distributes `Omit` over the union's members. */
type Body<M> = M extends unknown ? Omit<M, 'channel'> : never;

/** A message on the channel, built from its body. */
export function opsMessage(body: Body<OpsMessage>): OpsMessage {
  return { channel: OPS_CHANNEL, ...body };
}

/** Whether an IPC message belongs to the operating view (other modules, such as prom-client's, share the channel). */
export function isOpsMessage(m: unknown): m is OpsMessage {
  return typeof m === 'object' && m !== null && (m as { channel?: unknown }).channel === OPS_CHANNEL;
}
