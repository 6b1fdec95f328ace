import type { SourceDefinition } from '../source.js';

/** Pages to scrape into a knowledge base: an http(s) URL and an optional knowledge base id. */
export const pagesSource: SourceDefinition = {
  name: 'pages',
  description: 'Pages to scrape into a Botpress knowledge base: {url, knowledgeBaseId?}',
  schema: {
    $id: 'webhook-relay/sources/pages',
    type: 'object',
    required: ['url'],
    properties: {
      url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 },
      knowledgeBaseId: { type: 'string', minLength: 1, maxLength: 200 },
    },
  },
};
