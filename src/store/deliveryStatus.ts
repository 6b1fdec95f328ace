import type { KvWriter } from './kvWriter.js';
import type { WebhookStatus } from './webhookStatus.js';

/**
 * The status writes of one delivery of one webhook: one at a time, in the
 * order asked, each a compare-and-set over what is stored
 * ({@link KvWriter.putStatusOver}), so another delivery's or process's newer
 * status is never overwritten. The revision each write returns makes the
 * next one a single write.
 *
 * One write goes without knowing the revision: `done` of a first delivery
 * that wrote nothing before (a quick success, the common case), so it costs
 * no read. Nothing it could overwrite is newer: before a first delivery ends
 * the sweep's `queued`, a second delivery (whose own writes check) or
 * that second delivery's `dead` can be stored, and `done` may follow each.
 */
export class DeliveryStatus {
  private chain: Promise<unknown> = Promise.resolve();

  /**
   * @param revision of the entry as this delivery read it (0: none), if it did
   * @param firstDelivery whether this is the webhook's first delivery
   */
  constructor(
    private readonly kv: KvWriter,
    private revision: number | undefined,
    private readonly firstDelivery: boolean,
  ) {}

  /**
   * Writes `s` after this delivery's earlier writes.
   * @returns false when a newer status was stored (nothing written)
   * @throws AckError when the bucket does not acknowledge the write
   */
  write(s: WebhookStatus): Promise<boolean> {
    const next = this.chain.then(async () => {
      if (this.revision === undefined && this.firstDelivery && s.status === 'done') {
        await this.kv.putStatus(s);
        return true;
      }
      const revision = await this.kv.putStatusOver(s, this.revision);
      this.revision = revision;
      return revision !== undefined;
    });
    this.chain = next.catch(() => {
      // A failed write leaves the revision unknown: the next one reads it.
      this.revision = undefined;
    });
    return next;
  }
}
