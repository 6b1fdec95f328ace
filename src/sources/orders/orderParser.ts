/** An order read from a Discord-style notification. */
export interface Order {
  orderNumber: string;
  product: string | undefined;
  /** Integer minor units (cents) and ISO currency, when a price was given. */
  price: { amountMinor: number; currency: string } | undefined;
  quantity: number | undefined;
  email: string | undefined;
  /** `author.name` of the embed (the shop's label for the order). */
  label: string | undefined;
  title: string | undefined;
  /** Every label/value pair found, as sent. */
  fields: Record<string, string>;
}

/** The embed fields the parser reads. */
export interface OrderEmbed {
  author?: { name?: string };
  title?: string;
  description?: string;
  fields?: { name: string; value: string }[];
}

const LABELS: Record<string, keyof Order> = {
  'order number': 'orderNumber',
  'order no': 'orderNumber',
  'order #': 'orderNumber',
  'order id': 'orderNumber',
  order: 'orderNumber',
  product: 'product',
  item: 'product',
  price: 'price',
  total: 'price',
  amount: 'price',
  email: 'email',
  'e-mail': 'email',
  quantity: 'quantity',
  qty: 'quantity',
};

const SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY', '₹': 'INR' };
const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'VND', 'CLP', 'ISK']);

function normaliseLabel(text: string): string {
  return text.replace(/[*_`~]/g, '').replace(/:\s*$/, '').trim().toLowerCase();
}

/**
 * Parses a price such as `$99.99`, `1,299.00 EUR`, `€12,50` or `¥1200` into
 * integer minor units and a currency. Returns undefined when it is not a price.
 */
export function parsePrice(text: string, defaultCurrency = 'USD'): { amountMinor: number; currency: string } | undefined {
  const t = text.replace(/[*_`]/g, '').trim();
  const m = /^([A-Z]{3})?\s*([$€£¥₹])?\s*(\d{1,3}(?:[,. ]\d{3})*|\d+)(?:([.,])(\d{1,2}))?\s*([A-Z]{3})?$/.exec(t);
  if (!m) return undefined;
  const [, codeBefore, symbol, whole, , fraction, codeAfter] = m;
  const currency = codeBefore ?? codeAfter ?? (symbol ? SYMBOLS[symbol] : undefined) ?? defaultCurrency;
  const units = Number(whole!.replace(/[,. ]/g, ''));
  const digits = ZERO_DECIMAL.has(currency) ? 0 : 2;
  const frac = digits === 0 ? 0 : Number((fraction ?? '0').padEnd(2, '0'));
  return { amountMinor: units * 10 ** digits + frac, currency };
}

/** Label/value pairs from `Label\nValue` lines and from `Label: value` lines. */
function pairsFromDescription(description: string): [string, string][] {
  const lines = description.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const pairs: [string, string][] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const inline = /^([^:]{1,40}):\s*(.+)$/.exec(line.replace(/\*\*/g, ''));
    if (inline && LABELS[normaliseLabel(inline[1]!)]) {
      pairs.push([inline[1]!, inline[2]!]);
    } else if (LABELS[normaliseLabel(line)] && i + 1 < lines.length) {
      pairs.push([line, lines[++i]!]);
    }
  }
  return pairs;
}

/**
 * Reads an order from one embed (its `description` lines and/or `fields`).
 * Returns undefined when the embed carries no order number.
 */
export function parseOrderEmbed(embed: OrderEmbed): Order | undefined {
  const pairs = [...pairsFromDescription(embed.description ?? ''), ...(embed.fields ?? []).map((f) => [f.name, f.value] as [string, string])];
  const fields: Record<string, string> = {};
  const known: Partial<Record<keyof Order, string>> = {};
  for (const [label, value] of pairs) {
    const clean = value.replace(/[*_`]/g, '').trim();
    fields[label.replace(/[*_`:]/g, '').trim()] = clean;
    const key = LABELS[normaliseLabel(label)];
    if (key && known[key] === undefined) known[key] = clean;
  }
  const orderNumber = known.orderNumber?.replace(/^#/, '').trim();
  if (!orderNumber) return undefined;
  const quantity = known.quantity !== undefined && /^\d+$/.test(known.quantity) ? Number(known.quantity) : undefined;
  const email = known.email && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(known.email) ? known.email.toLowerCase() : undefined;
  return {
    orderNumber,
    product: known.product,
    price: known.price ? parsePrice(known.price) : undefined,
    quantity,
    email,
    label: embed.author?.name,
    title: embed.title,
    fields,
  };
}
