import { JetStreamApiError } from '@nats-io/jetstream';

/**
 * Awaits a JetStream API call, turning "not found" (404: no such message,
 * stream or consumer) into undefined.
 * @throws any other error of `p`
 */
export async function unlessMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof JetStreamApiError && e.status === 404) return undefined;
    throw e;
  }
}
