import type { DependencyRuntime } from '../dependencies/mod.js';

/** How many messages a consumer may pull now, given its dependencies' breakers. */
export interface PullAllowance {
  /** Upper bound on messages in flight now: 0 while a needed dependency is open, 1 while one is half-open. */
  maxInFlight: number;
  /** While paused: how long until it is worth looking again. */
  retryAfterMs: number;
  /** While paused: which dependency is open. */
  blockedBy: string | undefined;
}

/** The part of the dependency runtime a consumer watches. */
export type GateSource = Pick<DependencyRuntime<unknown>, 'status' | 'availability' | 'subscribe'>;

/**
 * Decides how much a source may pull from its dependencies' breaker states:
 * nothing while one is open (messages stay in the stream without spending
 * deliveries), a single message while one is half-open (the probe), up to
 * `concurrency` otherwise.
 */
export function pullAllowance(runtime: GateSource | undefined, needs: readonly string[], concurrency: number): PullAllowance {
  let max = concurrency;
  for (const name of needs) {
    const status = runtime?.status(name);
    if (!status) continue;
    const a = runtime!.availability(name);
    if (!a.accepting) return { maxInFlight: 0, retryAfterMs: Math.max(50, a.retryAfterMs), blockedBy: name };
    if (status.state === 'halfOpen') max = 1;
  }
  return { maxInFlight: max, retryAfterMs: 0, blockedBy: undefined };
}
