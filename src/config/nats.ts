import type { NatsClientConfig } from './natsClient.js';
import type { Secret } from './secret.js';

/** Settings of the NATS connection and the `WEBHOOKS` stream. */
export interface NatsConfig {
  /**
   * `NATS_URL` without the credentials it may carry (those are in
   * {@link NatsConfig.client}); undefined starts a local nats-server from nats.conf.
   */
  url: string | undefined;
  /** Authentication, TLS and inbox prefix of the NATS connection. */
  client: NatsClientConfig;
  /** `DATA_DIR`: where the local nats-server keeps its store @default './data' */
  dataDir: string | undefined;
  /**
   * `NATS_STORE_KEY`, or the contents of `NATS_STORE_KEY_FILE`: encrypts the
   * local nats-server's JetStream store (never set together with `NATS_URL`)
   * @default undefined (the store is not encrypted)
   */
  storeKey: Secret | undefined;
  /** `WEBHOOKS_MAX_BYTES` @default 1073741824 (1 GiB) */
  streamMaxBytes: number;
  /** `WEBHOOKS_MAX_MSGS`; -1 is unlimited @default -1 */
  streamMaxMsgs: number;
  /** `DEAD_LETTERS_MAX_BYTES` @default 1073741824 (1 GiB) */
  deadLettersMaxBytes: number;
  /** `STATUS_TTL`: how long per-webhook statuses are kept, in ms @default 7 days */
  statusTtlMs: number;
  /** `STEPS_TTL`: how long a webhook's finished steps are kept for its retries, in ms @default 7 days */
  stepsTtlMs: number;
}
