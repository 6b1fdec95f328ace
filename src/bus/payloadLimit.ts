import type { Log } from '../log.js';

/**
 * Room the headers of a stored webhook take at most in practice: two
 * delivery ids and an event type of up to 200 characters each, the source,
 * the content type, timestamps and the NATS header names.
 */
const WEBHOOK_HEADERS_ALLOWANCE = 2048;

/**
 * Logs a warning when a body of `maxBodyBytes` (`MAX_BODY_BYTES`) with its
 * headers would not fit the NATS server's `max_payload`: such bodies pass the
 * edge's own limit and are then refused with `413`.
 * @returns whether it warned
 */
export function warnIfBodyLimitAbovePayload(maxPayload: number | undefined, maxBodyBytes: number, log: Log): boolean {
  if (maxPayload === undefined || maxBodyBytes + WEBHOOK_HEADERS_ALLOWANCE <= maxPayload) return false;
  log.warn(
    { maxBodyBytes, maxPayload, headersAllowance: WEBHOOK_HEADERS_ALLOWANCE },
    `MAX_BODY_BYTES (${maxBodyBytes}) plus headers is above the NATS server's max_payload (${maxPayload}): ` +
      `larger bodies get 413; raise max_payload in the nats-server configuration or set MAX_BODY_BYTES to at most ${Math.max(0, maxPayload - WEBHOOK_HEADERS_ALLOWANCE)}`,
  );
  return true;
}
