import { defineSource } from '../source.js';
import { audiobooksPipeline } from './pipeline.js';
import { audiobooksSchema } from './schema.js';

/** `audiobooks`: Audnex metadata and MAM candidates for a book. */
export const audiobooksSource = defineSource({
  name: 'audiobooks',
  description: 'Audiobook metadata requests: {asin?, title?, author?}, at least an ASIN or a title',
  schema: audiobooksSchema,
  pipeline: () => audiobooksPipeline,
});
