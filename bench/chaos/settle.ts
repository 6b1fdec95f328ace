import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await pause(250);
  }
  return false;
}

/**
 * Waits, up to `timeoutMs`, until processing is over: `source`'s consumer
 * has nothing pending and `WEBHOOKS` holds nothing more. What is left then
 * is for the ledger to count.
 */
export async function settle(nc: NatsConnection, source: string, timeoutMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + timeoutMs;
  await until(async () => {
    const c = await jsm.consumers.info('WEBHOOKS', source);
    return c.num_pending === 0 && c.num_ack_pending === 0;
  }, timeoutMs);
  await until(async () => (await jsm.streams.info('WEBHOOKS')).state.messages === 0, Math.max(0, deadline - Date.now()));
}
