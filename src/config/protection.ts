import { ConfigError, intVar, numberVar, type Env } from './parse.js';

/** How the HTTP edge defends itself against floods and slow senders. */
export interface ProtectionConfig {
  /**
   * `INGEST_RATE_PER_IP`: webhooks per second one client IP may send to
   * `POST /webhooks/*`; 0 turns the limit off. With several edge processes
   * each one allows its share (rate / `INGEST_WORKERS`).
   * @default 1000
   */
  ratePerIp: number;
  /** `INGEST_BURST_PER_IP`: webhooks one client IP may send back to back. @default 2 × ratePerIp */
  burstPerIp: number;
  /**
   * `TRUST_PROXY`: how many reverse proxies in front of the service append to
   * `X-Forwarded-For`. 0 uses the socket's address and ignores the header.
   * @default 0
   */
  trustProxyHops: number;
  /** `MAX_CONNECTIONS`: open connections per edge process; more get a quick `503`. @default 10000 */
  maxConnections: number;
  /** `HEADERS_TIMEOUT_MS`: time to send the request line and headers (and the first byte). @default 10000 */
  headersTimeoutMs: number;
  /** `REQUEST_TIMEOUT_MS`: time to send the whole request, body included. @default 30000 */
  requestTimeoutMs: number;
}

/**
 * Reads the ingest protection variables.
 * @throws ConfigError naming the first variable with a bad value.
 */
export function loadProtectionConfig(env: Env): ProtectionConfig {
  const ratePerIp = numberVar(env, 'INGEST_RATE_PER_IP', 1000, { max: 1_000_000 });
  const burstPerIp = numberVar(env, 'INGEST_BURST_PER_IP', Math.max(1, ratePerIp * 2), { max: 10_000_000 });
  if (ratePerIp > 0 && burstPerIp < 1) throw new ConfigError('INGEST_BURST_PER_IP', `must be at least 1, got ${burstPerIp}`);
  const headersTimeoutMs = intVar(env, 'HEADERS_TIMEOUT_MS', 10_000, { min: 100, max: 600_000 });
  const requestTimeoutMs = intVar(env, 'REQUEST_TIMEOUT_MS', 30_000, { min: 100, max: 3_600_000 });
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('HEADERS_TIMEOUT_MS', `must not exceed REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`);
  }
  return {
    ratePerIp,
    burstPerIp,
    trustProxyHops: intVar(env, 'TRUST_PROXY', 0, { min: 0, max: 10 }),
    maxConnections: intVar(env, 'MAX_CONNECTIONS', 10_000, { min: 1, max: 1_000_000 }),
    headersTimeoutMs,
    requestTimeoutMs,
  };
}
