import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;

/**
 * Order notifications shaped like a Discord webhook: an `embeds` array whose
 * embeds carry the order as `description` lines and/or `fields`.
 */
export const ordersSchema = {
  $id: 'webhook-relay/sources/orders',
  type: 'object',
  required: ['embeds'],
  properties: {
    content: { type: ['string', 'null'], maxLength: 2000 },
    username: text(80),
    embeds: {
      type: 'array',
      minItems: 1,
      maxItems: 10,
      items: {
        type: 'object',
        anyOf: [{ required: ['description'] }, { required: ['fields'] }],
        properties: {
          author: {
            type: 'object',
            required: ['name'],
            properties: { name: text(256), url: text(2048), icon_url: text(2048) },
          },
          title: text(256),
          description: text(4096),
          fields: {
            type: 'array',
            maxItems: 25,
            items: {
              type: 'object',
              required: ['name', 'value'],
              properties: { name: text(256), value: text(1024), inline: { type: 'boolean' } },
            },
          },
        },
      },
    },
  },
} as const satisfies JSONSchema;

/** An `orders` webhook, as its schema admits it. */
export type OrdersWebhook = FromSchema<typeof ordersSchema>;
