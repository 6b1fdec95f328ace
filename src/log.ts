import { pino, type Logger, type LevelWithSilent } from 'pino';

/** The service's structured logger type. */
export type Log = Logger;

/**
 * Creates the service's JSON logger; every line names the service, the
 * instance (`INSTANCE_ID`) and the process.
 * @param level pino level; `silent` turns logging off (tests).
 * @param instance `INSTANCE_ID`, left out when not given (tools and tests).
 */
export function createLogger(level: LevelWithSilent = 'info', instance?: string): Log {
  return pino({ level, base: { service: 'webhook-relay', ...(instance === undefined ? {} : { instance }), pid: process.pid } });
}
