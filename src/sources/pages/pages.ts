import { defineSource } from '../source.js';
import { pagesPipeline } from './pipeline.js';
import { pagesSchema } from './schema.js';

/** `pages`: a page scraped, summarised and added to a Botpress knowledge base. */
export const pagesSource = defineSource({
  name: 'pages',
  description: 'Pages to scrape into a Botpress knowledge base: {url, knowledgeBaseId?}',
  schema: pagesSchema,
  pipeline: (settings) => pagesPipeline(settings.defaultKnowledgeBaseId),
});
