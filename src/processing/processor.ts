import { kvStepJournal } from '../store/stepJournal.js';
import { concurrencyOf } from '../config/processing.js';
import { Kvm } from '@nats-io/kv';
import type { ProcessingConfig } from '../config/processing.js';
import { DeadLetterMover } from './deadLetters/deadLetterMover.js';
import type { SourceValidator } from '../ingest/validator.js';
import type { Log } from '../log.js';
import type { NatsLink } from '../bus/connection.js';
import type { DependencyActors } from '../dependencies/mod.js';
import { ProcessingEvents } from './processingEvents.js';
import type { SourceHandler } from './handler.js';
import { WebhookMessageProcessor } from './messageProcessor.js';
import { AckFloorReconciler } from './reconciler.js';
import { QueuedSweep } from './queuedSweep.js';
import { SourceConsumer } from './sourceConsumer.js';
import { KvWriter } from '../store/kvWriter.js';
import { Buckets } from '../bus/names.js';
import { PublishAckMux } from '../bus/ackMux.js';

/** Everything the processor needs. */
export interface ProcessorOptions {
  /** The consumers', retries' and shutdown's settings. */
  config: { processing: ProcessingConfig };
  link: NatsLink;
  handlers: ReadonlyMap<string, SourceHandler>;
  validator: SourceValidator;
  actors: DependencyActors;
  log: Log;
}

/** The running consumers, the dead-letter mover, the WEBHOOKS reconciler and the queued sweep. */
export interface Processor {
  readonly events: ProcessingEvents;
  readonly consumers: readonly SourceConsumer[];
  /** Stops pulling, lets handlers finish (up to `SHUTDOWN_TIMEOUT_MS`), naks the rest. */
  stop(): Promise<void>;
}

/**
 * Starts one consumer per source that has a handler, the dead-letter mover,
 * the WEBHOOKS reconciler and the queued sweep, once the NATS link is ready.
 */
export async function startProcessor(o: ProcessorOptions): Promise<Processor> {
  const { config, link, log } = o;
  await link.whenReady();
  const nc = link.nc!;
  // The link's set-up has created every bucket; processing only binds to the status bucket.
  const statusKv = await new Kvm(nc).open(Buckets.status);
  const steps = kvStepJournal(await new Kvm(nc).open(Buckets.steps));
  const kv = new KvWriter(nc, 5000, statusKv);
  const acks = new PublishAckMux(nc, 5000);
  const events = new ProcessingEvents();
  const processor = new WebhookMessageProcessor({
    js: link.js!,
    kv,
    acks,
    validator: o.validator,
    retry: { backoffMs: config.processing.retryBackoffMs, maxDeliver: config.processing.maxDeliver },
    events,
    log,
    steps,
  });
  const consumers = [...o.handlers.values()].map(
    (handler) =>
      new SourceConsumer({
        js: link.js!,
        handler,
        processor,
        deps: o.actors.deps,
        gate: handler.needs.length > 0 ? o.actors.runtime : undefined,
        concurrency: concurrencyOf(config.processing, handler.source),
        ackWaitMs: config.processing.ackWaitMs,
        log,
      }),
  );
  const mover = new DeadLetterMover({ js: link.js!, jsm: link.jsm!, statusKv, kv, events, log, steps });
  const reconciler = new AckFloorReconciler({
    jsm: link.jsm!,
    statusKv,
    sources: consumers.map((c) => c.source),
    intervalMs: config.processing.reconcileIntervalMs,
    log,
  });
  const sweep = new QueuedSweep({ jsm: link.jsm!, statusKv, sources: consumers.map((c) => c.source), log });
  for (const c of consumers) c.start();
  mover.start();
  reconciler.start();
  sweep.start();
  log.info({ sources: consumers.map((c) => c.source) }, 'processing started');

  return {
    events,
    consumers,
    async stop() {
      await Promise.all(consumers.map((c) => c.stop(config.processing.shutdownTimeoutMs)));
      await mover.stop();
      await reconciler.stop();
      await sweep.stop();
      kv.close();
      acks.close();
    },
  };
}
