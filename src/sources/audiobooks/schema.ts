import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { AUDNEX_ASIN } from '../../dependencies/mod.js';

/** Audiobook metadata requests: an ASIN and/or a title (with an optional author). */
export const audiobooksSchema = {
  $id: 'webhook-relay/sources/audiobooks',
  type: 'object',
  anyOf: [{ required: ['asin'] }, { required: ['title'] }],
  properties: {
    // Audnex's own rule, so a webhook the edge accepts is one Audnex can look up.
    asin: { type: 'string', pattern: AUDNEX_ASIN.source },
    title: { type: 'string', minLength: 1, maxLength: 500 },
    author: { type: 'string', minLength: 1, maxLength: 300 },
  },
} as const satisfies JSONSchema;

/** An `audiobooks` webhook, as its schema admits it. */
export type AudiobooksWebhook = FromSchema<typeof audiobooksSchema>;
