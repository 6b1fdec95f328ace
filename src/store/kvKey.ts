/**
 * Turns a natural key (order number, ASIN, URL, delivery id) into a NATS KV
 * key. Keys made only of KV-safe characters stay readable
 * (`nats kv get orders TEST-1`); anything else is stored as `b64.` followed
 * by its base64url form, which {@link naturalKey} reverses.
 */
export function kvKey(natural: string): string {
  if (/^[-_=a-zA-Z0-9]+(\.[-_=a-zA-Z0-9]+)*$/.test(natural) && natural.length <= 200 && !natural.startsWith('b64.')) return natural;
  return `b64.${Buffer.from(natural, 'utf8').toString('base64url')}`;
}

/** Reverses {@link kvKey}. */
export function naturalKey(key: string): string {
  return key.startsWith('b64.') ? Buffer.from(key.slice(4), 'base64url').toString('utf8') : key;
}
