import { defineSource } from '../source.js';
import { ordersPipeline } from './pipeline.js';
import { ordersSchema } from './schema.js';

/** `orders`: Discord-style order notifications, parsed and stored by order number. */
export const ordersSource = defineSource({
  name: 'orders',
  description: 'Discord-style order notifications (embeds with description lines and/or fields)',
  schema: ordersSchema,
  // Its pipeline calls no dependency and takes microseconds: a hundred in
  // flight share each socket write of their acks and KV writes.
  defaultConcurrency: 100,
  pipeline: () => ordersPipeline,
});
