import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** Pages to scrape into a knowledge base: an http(s) URL and an optional knowledge base id. */
export const pagesSchema = {
  $id: 'webhook-relay/sources/pages',
  type: 'object',
  required: ['url'],
  properties: {
    url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 },
    knowledgeBaseId: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const satisfies JSONSchema;

/** A `pages` webhook, as its schema admits it. */
export type PagesWebhook = FromSchema<typeof pagesSchema>;
