import { nuid } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import type { ProcessingEvents } from '../processing/processingEvents.js';
import type { NatsLink } from '../bus/connection.js';
import { IgnoredMessages } from './ignoredMessages.js';
import { OpsMetrics } from './metrics.js';
import { NatsSampler } from './natsSample.js';
import { OpsResponder } from './opsResponder.js';
import type { MemberRole } from './opsSubjects.js';
import type { OpsReader } from './opsReader.js';
import { ClusterOpsReader } from './clusterOpsReader.js';
import { OpsRecorder, type WatchedDependencies } from './opsRecorder.js';
import { OpsRoster } from './roster.js';

/** One process's part of the operating view. */
export interface OperatingView {
  /** This process's metrics. */
  readonly metrics: OpsMetrics;
  /** Where this process's routes get their data. */
  readonly reader: OpsReader;
  /** Counts the processor's events (no-op without processing). */
  watchProcessing(events: ProcessingEvents): void;
  /** Counts the dependency actors' events and reports their state (no-op without processing). */
  watchDependencies(dependencies: WatchedDependencies): void;
  stop(): void;
}

/** What {@link createOperatingView} needs. */
export interface OperatingViewOptions {
  link: NatsLink;
  sources: Iterable<string>;
  /** `INSTANCE_ID`. */
  instance: string;
  role: MemberRole;
  /** Whether this process runs processing and the dependency actors. */
  processing: boolean;
  /** How many edge processes this instance runs besides its primary (0: the primary serves HTTP itself). */
  edgeProcesses: number;
  log: Log;
}

/**
 * Sets up the operating view of one process. Every process (the primary,
 * each edge process, each instance) joins the same NATS subjects, so edge
 * workers on one machine and instances on many read the same way.
 */
export function createOperatingView(o: OperatingViewOptions): OperatingView {
  const metrics = new OpsMetrics(o.instance);
  const sources = [...o.sources];
  const sampler = new NatsSampler(() => (o.link.ready ? o.link.jsm : undefined), sources);
  const recorder = o.processing ? new OpsRecorder({ instance: o.instance, metrics, sampler, sources }) : undefined;
  const self = { member: nuid.next(), instance: o.instance, pid: process.pid, role: o.role, processing: o.processing, startedAt: Date.now() };
  const ignored = new IgnoredMessages({ log: o.log, counter: metrics.opsMessagesIgnored });
  const roster = new OpsRoster(self, { ignored });
  const responder = new OpsResponder({
    self,
    metrics,
    recorder,
    linkReady: () => o.link.ready,
    processes: { primary: 1, edgeProcess: o.edgeProcesses },
    isMember: (m) => roster.known(m) !== undefined,
    ignored,
    log: o.log,
  });
  const reader = new ClusterOpsReader({ link: o.link, roster, responder, recorder, sampler, sources, ignored });
  let stopped = false;
  void o.link.whenReady().then(() => {
    if (stopped || !o.link.nc) return;
    roster.start(o.link.nc);
    responder.start(o.link.nc);
  });
  return {
    metrics,
    reader,
    watchProcessing: (events) => recorder?.watchProcessing(events),
    watchDependencies: (dependencies) => recorder?.watchDependencies(dependencies),
    stop: () => {
      stopped = true;
      reader.stop();
      responder.stop();
      roster.stop();
      recorder?.stop();
    },
  };
}
