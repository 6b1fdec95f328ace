import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { loadConfig, type ServiceConfig } from './serviceConfig.js';
import { CONFIG_ERROR_EXIT_CODE } from './config/parse.js';
import { ErrorCodes } from './errors/codes.js';
import { isEdgeProcess, startEdgeProcesses } from './edgeProcesses.js';
import { isServiceError } from './errors/serviceError.js';
import { assertListenable } from './http/listen.js';
import { createLogger, type Log } from './log.js';
import { startEmbeddedNats } from './nats/embedded.js';
import type { LocalNats } from './nats/localServer.js';
import { startService, type RunningService } from './service.js';
import { startTracing, type Tracing } from './tracing/sdk.js';

/** The folder holding nats.conf, from `src/` or `dist/src/`. */
function findProjectDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'nats.conf')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** When `e` is a configuration error, stops the process with its message, which names the variable. */
function exitIfConfigError(e: unknown): void {
  if (!isServiceError(e) || e.code !== ErrorCodes.CONFIG_INVALID) return;
  process.stderr.write(`configuration error: ${e.message}\n`);
  process.exit(CONFIG_ERROR_EXIT_CODE);
}

function loadConfigOrExit(): ServiceConfig {
  try {
    return loadConfig(process.env);
  } catch (e) {
    exitIfConfigError(e);
    throw e;
  }
}

/**
 * Exits 78 like any configuration error when the NATS link gives up on one
 * (e.g. a `NATS_REPLICAS` the cluster cannot keep).
 */
function exitOnConfigFailure(service: RunningService, stop: () => Promise<unknown>): void {
  void service.link.whenFailed().then(async (e) => {
    process.stderr.write(`configuration error: ${e.message}\n`);
    // Processing may still wait for a link that will never be ready.
    await Promise.race([stop().catch(() => undefined), new Promise((r) => setTimeout(r, 3000).unref())]);
    process.exit(78);
  });
}

/** Started first thing in every process (edge processes too); flushed last on a signal. */
let tracing: Tracing | undefined;

/**
 * Runs `stop` once on SIGTERM or SIGINT, then flushes the spans still
 * buffered and exits 0 (1 if stopping failed).
 */
function onSignals(log: Log, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await stop();
      await tracing?.shutdown().catch((err: unknown) => log.warn({ err }, 'spans not flushed'));
      log.info('stopped');
      process.exit(0);
    } catch (e) {
      log.error({ err: e }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function startLocalNatsFor(config: ServiceConfig, log: Log): Promise<LocalNats> {
  const projectDir = findProjectDir();
  const dataDir = resolve(projectDir, config.nats.dataDir ?? 'data');
  const embedded = await startEmbeddedNats({ projectDir, dataDir, log, storeKey: config.nats.storeKey?.reveal() });
  // For operators: `nats --server "$(cat data/nats.url)" stream ls`
  await writeFile(resolve(dataDir, 'nats.url'), `${embedded.url}\n`);
  // Never leave the child server behind, even if this process dies abruptly.
  process.once('exit', () => {
    try {
      process.kill(embedded.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  });
  return embedded;
}

async function main(): Promise<void> {
  // Before anything else, so every span of this process reaches the SDK (the OTEL_* variables configure it).
  tracing = startTracing(process.env);
  const config = loadConfigOrExit();
  // Read once: no child process (nats-server, edge processes, Chromium) inherits the key.
  delete process.env.NATS_STORE_KEY;
  delete process.env.NATS_STORE_KEY_FILE;
  const log = createLogger(config.logLevel, config.cluster.instanceId);

  if (isEdgeProcess()) {
    const edge = await startService(config, log, config.nats.url!, { edge: true, processing: false, listenAfterReadyMs: 10_000, edgeProcesses: config.ingest.edgeProcesses });
    exitOnConfigFailure(edge, () => edge.stop(1000));
    onSignals(log, () => edge.stop());
    return;
  }

  // Workers listen only once started; a PORT already taken is reported before anything starts.
  if (config.ingest.role !== 'worker' && config.ingest.edgeProcesses > 1) await assertListenable(config.ingest.port, config.ingest.host);
  const embedded = config.nats.url === undefined ? await startLocalNatsFor(config, log) : undefined;
  const natsUrl = config.nats.url ?? embedded!.url;

  const processingHere = config.ingest.role !== 'edge';
  const edgeHere = config.ingest.role !== 'worker';
  if (edgeHere && config.ingest.edgeProcesses > 1) {
    // This process runs the consumers and the dependency actors (one owner per
    // dependency); the workers run only the HTTP edge.
    const processing = await startService(config, log, natsUrl, { edge: false, processing: processingHere, edgeProcesses: config.ingest.edgeProcesses });
    exitOnConfigFailure(processing, async () => {
      await processing.stop(1000);
      await embedded?.stop();
    });
    const stopAll = async () => {
      await workers.stop();
      await processing.stop();
      await embedded?.stop();
    };
    const workers = startEdgeProcesses({
      count: config.ingest.edgeProcesses,
      // The workers belong to this instance: same INSTANCE_ID in logs, metrics and the operating view.
      // NATS_URL only when it names the local server: a configured one reaches them with its credentials in the inherited environment.
      env: { ...(embedded ? { NATS_URL: embedded.url } : {}), INSTANCE_ID: config.cluster.instanceId },
      log,
      // The worker has said why (PORT taken, ...); a replacement would fail the same way.
      onUnrecoverable: (code) => {
        log.fatal({ code }, 'an edge process cannot serve; stopping');
        void stopAll().finally(() => process.exit(code));
      },
    });
    log.info({ edgeProcesses: config.ingest.edgeProcesses, port: config.ingest.port }, 'HTTP edge runs in edge processes');
    onSignals(log, stopAll);
    return;
  }

  const service = await startService(config, log, natsUrl, { edge: edgeHere, processing: processingHere });
  exitOnConfigFailure(service, async () => {
    await service.stop(1000);
    await embedded?.stop();
  });
  onSignals(log, async () => {
    await service.stop();
    await embedded?.stop();
  });
}

main().catch((e) => {
  // A PORT already taken, for one, is known only once the edge tries to listen.
  exitIfConfigError(e);
  process.stderr.write(`fatal: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
