import { audiobooksSource } from './audiobooks/schema.js';
import { ordersSource } from './orders/schema.js';
import { pagesSource } from './pages/schema.js';
import { SOURCE_NAME_PATTERN, type SourceDefinition } from './source.js';

/** Every source the service accepts, by name. */
export const sources: ReadonlyMap<string, SourceDefinition> = new Map(
  [ordersSource, audiobooksSource, pagesSource].map((s) => {
    if (!SOURCE_NAME_PATTERN.test(s.name)) throw new RangeError(`source name '${s.name}' must match ${SOURCE_NAME_PATTERN}`);
    return [s.name, s];
  }),
);

/** The environment variable holding a source's signing secret(s). */
export function secretVariable(source: string): string {
  return `WEBHOOK_SECRET_${source.toUpperCase().replace(/-/g, '_')}`;
}
