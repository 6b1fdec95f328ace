import type { SourceHandler } from '../../processing/handler.js';
import { unprocessable } from '../../processing/processingError.js';
import { parseOrderEmbed, type Order } from './orderParser.js';
import type { OrdersWebhook } from './schema.js';

/** A stored order: the parsed order and where it came from. */
export interface OrderRecord extends Order {
  webhookId: string;
  receivedAt: string | undefined;
}

/**
 * `orders`: parses each embed into a typed order and stores it by order
 * number. Needs no dependency. An embed without an order number is a
 * permanent failure.
 */
export const ordersPipeline: SourceHandler<OrdersWebhook, OrderRecord> = {
  source: 'orders',
  needs: [],
  async handle(payload, _deps, meta) {
    return payload.embeds.map((embed, i) => {
      const order = parseOrderEmbed(embed);
      if (!order) throw unprocessable(`embed ${i} has no order number`, { embed: i });
      return { key: order.orderNumber, value: { ...order, webhookId: meta.id, receivedAt: meta.receivedAt } };
    });
  },
};
