import type { SourceSignature } from './signatures.js';

/** Settings of the HTTP edge and the ingest path. */
export interface IngestConfig {
  /** `PORT` @default 3000 */
  port: number;
  /** `HOST` @default undefined (all interfaces) */
  host: string | undefined;
  /** `SERVICE_ROLE`: `all` (edge and processing), `edge` (only the HTTP edge) or `worker` (only processing) @default 'all' */
  role: 'all' | 'edge' | 'worker';
  /** `INGEST_WORKERS`: edge processes (HTTP) sharing the port @default CPU cores, at most 4, less one with `SERVICE_ROLE=all` */
  edgeProcesses: number;
  /** `MAX_BODY_BYTES` @default 1048576 */
  maxBodyBytes: number;
  /**
   * `DUPLICATE_WINDOW` in ms; at least `MIN_SIGNED_DUPLICATE_WINDOW_MS` (10 minutes)
   * while any source has a secret, so a signed request cannot be stored twice.
   * @default 600000
   */
  duplicateWindowMs: number;
  /**
   * `INGEST_PUBLISH_DEADLINE` in ms: how long a webhook's publish is retried
   * while the stream has no leader, no quorum or no connection, before the
   * sender gets `503`; 0 answers at once.
   * @default 8000 (below GitHub's 10 s)
   */
  publishDeadlineMs: number;
  /** Sources that require a signature (`WEBHOOK_SECRET_<SOURCE>`), with their scheme and verifier. */
  signatures: ReadonlyMap<string, SourceSignature>;
}
