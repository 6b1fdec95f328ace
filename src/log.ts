import { pino, type Logger, type LevelWithSilent } from 'pino';

/** The service's structured logger type. */
export type Log = Logger;

/**
 * Creates the service's JSON logger.
 * @param level pino level; `silent` turns logging off (tests).
 */
export function createLogger(level: LevelWithSilent = 'info'): Log {
  return pino({ level, base: { service: 'webhook-relay' } });
}
