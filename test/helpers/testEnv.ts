import type { Env } from '../../src/config/parse.js';

/**
 * The environment a service under test starts with: a free port on loopback
 * and silent logs, then `overrides`.
 */
export function testEnv(overrides: Env = {}): Env {
  return { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...overrides };
}

/**
 * The environment of `src/main.ts` started as a child process: this process's
 * environment without its `NATS_URL` (a developer's own server must never be
 * used), loopback and warnings only, then `overrides` (give `NATS_URL` and
 * `PORT` there).
 */
export function childEnv(overrides: Env = {}): NodeJS.ProcessEnv {
  const inherited: Env = { ...process.env };
  delete inherited.NATS_URL;
  return { ...inherited, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...overrides };
}

/**
 * Audnex pointed at a stub, fast enough for tests, with a breaker that opens
 * after two failures and retries 50 ms apart; `overrides` set the cool-down
 * and deliveries each test needs.
 */
export function audnexStubEnv(url: string, overrides: Env = {}): Env {
  return { AUDNEX_URL: url, AUDNEX_RATE: '100', AUDNEX_BURST: '10', AUDNEX_BREAKER_THRESHOLD: '2', RETRY_BACKOFF: '50ms', ...overrides };
}
