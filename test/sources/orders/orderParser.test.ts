import { expect } from 'chai';
import { parseOrderEmbed, parsePrice } from '../../../src/sources/orders/orderParser.js';

describe('parseOrderEmbed', () => {
  it('reads label/value lines of a Discord description', () => {
    const order = parseOrderEmbed({
      author: { name: 'Test Order 1' },
      description: 'Product\nTest Product 1\nPrice\n$99.99\nOrder Number\nTEST-1\nEmail\ntest1@example.com',
    });
    expect(order).to.deep.include({
      orderNumber: 'TEST-1',
      product: 'Test Product 1',
      price: { amountMinor: 9999, currency: 'USD' },
      email: 'test1@example.com',
      label: 'Test Order 1',
    });
  });

  it('reads fields and "Label: value" lines, with Markdown emphasis removed', () => {
    const order = parseOrderEmbed({
      description: '**Product:** Deluxe Kit\n**Quantity:** 3',
      fields: [
        { name: 'Order #', value: '#A-1002' },
        { name: 'Total', value: '1.299,50 EUR' },
      ],
    });
    expect(order).to.deep.include({ orderNumber: 'A-1002', product: 'Deluxe Kit', quantity: 3, price: { amountMinor: 129950, currency: 'EUR' } });
    expect(order!.fields).to.include({ 'Order #': '#A-1002', Product: 'Deluxe Kit' });
  });

  it('returns undefined when the embed has no order number', () => {
    expect(parseOrderEmbed({ description: 'Product\nThing\nPrice\n$1.00' })).to.equal(undefined);
  });

  it('drops an email that is not one', () => {
    expect(parseOrderEmbed({ description: 'Order Number\nX-1\nEmail\nnot-an-email' })!.email).to.equal(undefined);
  });
});

describe('parsePrice', () => {
  it('turns prices into integer minor units and a currency', () => {
    expect(parsePrice('$99.99')).to.deep.equal({ amountMinor: 9999, currency: 'USD' });
    expect(parsePrice('$1,299')).to.deep.equal({ amountMinor: 129900, currency: 'USD' });
    expect(parsePrice('£5.5')).to.deep.equal({ amountMinor: 550, currency: 'GBP' });
    expect(parsePrice('¥1200')).to.deep.equal({ amountMinor: 1200, currency: 'JPY' });
    expect(parsePrice('CAD 12.00')).to.deep.equal({ amountMinor: 1200, currency: 'CAD' });
  });

  it('returns undefined for text that is not a price', () => {
    expect(parsePrice('free')).to.equal(undefined);
    expect(parsePrice('$')).to.equal(undefined);
  });
});
