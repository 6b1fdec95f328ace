import type { DependencyError } from '../../src/dependencies/runtime/errors.js';

/**
 * The error a call failed with.
 * @throws Error when the call succeeded.
 */
export async function failureOf(p: Promise<unknown>): Promise<DependencyError> {
  try {
    await p;
  } catch (e) {
    return e as DependencyError;
  }
  throw new Error('expected the call to fail');
}

/** The code a call failed with, or `'resolved'` when it succeeded. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return (e as DependencyError).code;
  }
}
