/** A webhook's processing milestones, for stats, metrics and the live view. */
export type ProcessingEvent =
  | { type: 'webhook.processing'; source: string; id: string; seq: number; deliveries: number; at: number }
  /** Stored, its status `done`, and JetStream confirmed the ack. */
  | { type: 'webhook.done'; source: string; id: string; seq: number; deliveries: number; durationMs: number; at: number }
  /** Stored and `done`, but JetStream did not confirm the ack: a redelivery, if one comes, is skipped. */
  | { type: 'webhook.ackUnconfirmed'; source: string; id: string; seq: number; deliveries: number; durationMs: number; at: number }
  /** A redelivery of a webhook already `done` for its sequence: acked without running the pipeline. */
  | { type: 'webhook.duplicateSkipped'; source: string; id: string; seq: number; deliveries: number; at: number }
  | { type: 'webhook.retrying'; source: string; id: string; seq: number; deliveries: number; code: string; durationMs: number; delayMs: number; at: number }
  | { type: 'webhook.failed'; source: string; id: string; seq: number; deliveries: number; code: string; durationMs: number; at: number }
  | {
      type: 'webhook.deadLettered';
      source: string;
      id: string;
      seq: number;
      deliveries: number;
      code: string;
      durationMs: number;
      reason: 'max_deliveries' | 'terminated';
      at: number;
    };

/** Receives processing events. */
export type ProcessingListener = (event: ProcessingEvent) => void;

/** A small synchronous event hub; a throwing listener never disturbs processing. */
export class ProcessingEvents {
  private readonly listeners = new Set<ProcessingListener>();

  /** @returns a function that unsubscribes */
  subscribe(listener: ProcessingListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Delivers `event` to every listener. */
  emit(event: ProcessingEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener's failure is its own; processing goes on.
      }
    }
  }
}
