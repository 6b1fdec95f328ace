import type { SourceDefinition } from '../source.js';

/** Audiobook metadata requests: an ASIN and/or a title (with an optional author). */
export const audiobooksSource: SourceDefinition = {
  name: 'audiobooks',
  description: 'Audiobook metadata requests: {asin?, title?, author?}, at least an ASIN or a title',
  schema: {
    $id: 'webhook-relay/sources/audiobooks',
    type: 'object',
    anyOf: [{ required: ['asin'] }, { required: ['title'] }],
    properties: {
      asin: { type: 'string', pattern: '^[A-Z0-9]{10}$' },
      title: { type: 'string', minLength: 1, maxLength: 500 },
      author: { type: 'string', minLength: 1, maxLength: 300 },
    },
  },
};
