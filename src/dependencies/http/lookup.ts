/**
 * The answer to "get X by key": found with its value, or not found (which is
 * a result, not a failure: the dependency worked and said so).
 */
export type Lookup<T> = { readonly found: true; readonly value: T } | { readonly found: false; readonly key: string };

/** A found {@link Lookup}. */
export function found<T>(value: T): Lookup<T> {
  return { found: true, value };
}

/** A not-found {@link Lookup} for `key`. */
export function notFound<T = never>(key: string): Lookup<T> {
  return { found: false, key };
}
