import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { loadConfig } from './config/env.js';
import { isServiceError } from './errors/serviceError.js';
import { createLogger } from './log.js';
import { startEmbeddedNats } from './nats/embedded.js';
import type { LocalNats } from './nats/localServer.js';
import { startService } from './service.js';

/** The folder holding package.json and nats.conf, from `src/` or `dist/src/`. */
function findProjectDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'nats.conf')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const projectDir = findProjectDir();

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (isServiceError(e)) {
      process.stderr.write(`configuration error: ${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);

  let embedded: LocalNats | undefined;
  if (config.nats.url === undefined) {
    embedded = await startEmbeddedNats(projectDir, log);
    await writeFile(resolve(projectDir, 'data', 'nats.url'), `${embedded.url}\n`);
    // Never leave the child server behind, even if this process dies abruptly.
    const pid = embedded.pid;
    process.once('exit', () => {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    });
  }
  const service = await startService(config, log, config.nats.url ?? embedded!.url);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await service.stop();
      await embedded?.stop();
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

main().catch((e) => {
  process.stderr.write(`fatal: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
