import { expect } from 'chai';
import { SourceValidator } from '../../src/ingest/validator.js';
import { audiobooksSource } from '../../src/sources/audiobooks/audiobooks.js';
import { ordersSource } from '../../src/sources/orders/orders.js';
import { pagesSource } from '../../src/sources/pages/pages.js';
import { secretVariable } from '../../src/config/signatures.js';
import { createPipelines, sources } from '../../src/sources/registry.js';
import { defineSource } from '../../src/sources/source.js';
import { SOURCE_NAME_PATTERN } from '../../src/sources/source.js';
import { ORDER_BODY } from '../helpers/service.js';

// Compiled the way the service compiles them (strict ajv with formats).
const validator = new SourceValidator(sources.values());

/** `ok`, or the `path keyword` of each violation the schema reports. */
function check(source: string, body: unknown): 'ok' | string[] {
  try {
    validator.validate(source, body);
    return 'ok';
  } catch (e) {
    const error = e as { code: string; status: number; details: { path: string; keyword: string }[] };
    expect(error).to.deep.include({ code: 'INGEST_SCHEMA_INVALID', status: 422 });
    return error.details.map((d) => `${d.path} ${d.keyword}`);
  }
}

describe('source registry', () => {
  it('holds orders, audiobooks and pages, each under its own name', () => {
    expect([...sources.keys()]).to.deep.equal(['orders', 'audiobooks', 'pages']);
    expect(sources.get('orders')).to.equal(ordersSource);
    expect(sources.get('audiobooks')).to.equal(audiobooksSource);
    expect(sources.get('pages')).to.equal(pagesSource);
  });

  it('gives every source a name that is a NATS subject token and a consumer name', () => {
    for (const name of sources.keys()) expect(name).to.match(SOURCE_NAME_PATTERN);
    for (const bad of ['Orders', 'with.dot', 'with space', '9lives', '*', '>', 'x'.repeat(33)]) expect(bad).to.not.match(SOURCE_NAME_PATTERN);
  });

  it('gives every source a pipeline for itself that needs only dependencies the service runs', () => {
    const pipelines = createPipelines({ defaultKnowledgeBaseId: undefined });
    expect([...pipelines.keys()]).to.deep.equal([...sources.keys()]);
    expect(pipelines.get('audiobooks')!.needs).to.deep.equal(['audnex', 'mam']);
  });

  it('refuses to start with a pipeline that needs a dependency the service does not run, or handles another source', () => {
    const needsGhost = defineSource({ name: 'ghosts', description: 'x', schema: { type: 'object' }, pipeline: () => ({ source: 'ghosts', needs: ['ghostbusters' as never], handle: async () => [] }) });
    expect(() => createPipelines({ defaultKnowledgeBaseId: undefined }, [needsGhost])).to.throw("source 'ghosts' needs dependencies the service does not run: ghostbusters");
    const misfiled = defineSource({ name: 'ghosts', description: 'x', schema: { type: 'object' }, pipeline: () => ({ source: 'orders', needs: [], handle: async () => [] }) });
    expect(() => createPipelines({ defaultKnowledgeBaseId: undefined }, [misfiled])).to.throw("source 'ghosts' has the pipeline of 'orders'");
  });

  it('accepts exactly the ASINs Audnex accepts: the schema and the dependency share one rule', () => {
    expect(check('audiobooks', { asin: 'B08G9PRS1K' })).to.equal('ok');
    expect(check('audiobooks', { asin: '125025973X' })).to.equal('ok');
    // Ten capitals and digits, but not an ASIN Audnex knows how to look up.
    expect(check('audiobooks', { asin: 'A08G9PRS1K' })).to.deep.equal(['/asin pattern']);
  });

  it('names the secret variable after the source', () => {
    expect(secretVariable('pages')).to.equal('WEBHOOK_SECRET_PAGES');
    expect(secretVariable('shop-orders')).to.equal('WEBHOOK_SECRET_SHOP_ORDERS');
  });

  it('refuses to validate for a source it does not know', () => {
    expect(() => validator.validate('nope', {})).to.throw(RangeError, "no validator for source 'nope'");
  });
});

describe('orders schema', () => {
  it('accepts the README example, embeds with fields only, and a null content', () => {
    expect(check('orders', ORDER_BODY)).to.equal('ok');
    expect(check('orders', { embeds: [{ fields: [{ name: 'Order Number', value: 'A-1', inline: true }] }] })).to.equal('ok');
    expect(check('orders', { content: null, username: 'Shop', embeds: [{ title: 'New order', description: 'Order Number\nA-2' }] })).to.equal('ok');
  });

  it('refuses a body without embeds, an empty list and more than ten embeds', () => {
    expect(check('orders', {})).to.deep.equal(['/ required']);
    expect(check('orders', { embeds: [] })).to.deep.equal(['/embeds minItems']);
    expect(check('orders', { embeds: Array.from({ length: 11 }, () => ({ description: 'x' })) })).to.deep.equal(['/embeds maxItems']);
  });

  it('refuses an embed with neither description nor fields, and a field without a value', () => {
    expect(check('orders', { embeds: [{ title: 'only a title' }] })).to.include('/embeds/0 anyOf');
    expect(check('orders', { embeds: [{ fields: [{ name: 'Price' }] }] })).to.deep.equal(['/embeds/0/fields/0 required']);
  });

  it('refuses over-long text and wrong types', () => {
    expect(check('orders', { embeds: [{ description: 'x'.repeat(4097) }] })).to.deep.equal(['/embeds/0/description maxLength']);
    expect(check('orders', { content: 7, embeds: [{ description: 'x' }] })).to.deep.equal(['/content type']);
    expect(check('orders', { embeds: 'not a list' })).to.deep.equal(['/embeds type']);
  });
});

describe('audiobooks schema', () => {
  it('accepts an ASIN, a title, or both with an author', () => {
    expect(check('audiobooks', { asin: 'B08G9PRS1K' })).to.equal('ok');
    expect(check('audiobooks', { title: 'Project Hail Mary' })).to.equal('ok');
    expect(check('audiobooks', { asin: 'B08G9PRS1K', title: 'Project Hail Mary', author: 'Andy Weir' })).to.equal('ok');
  });

  it('refuses a body with neither an ASIN nor a title', () => {
    expect(check('audiobooks', { author: 'Andy Weir' })).to.include('/ anyOf');
  });

  it('refuses a malformed ASIN and an empty title', () => {
    expect(check('audiobooks', { asin: 'b08g9prs1k' })).to.deep.equal(['/asin pattern']);
    expect(check('audiobooks', { asin: 'B08G9PRS1' })).to.deep.equal(['/asin pattern']);
    expect(check('audiobooks', { title: '' })).to.deep.equal(['/title minLength']);
  });
});

describe('pages schema', () => {
  it('accepts an http(s) URL with or without a knowledge base', () => {
    expect(check('pages', { url: 'https://example.com/about' })).to.equal('ok');
    expect(check('pages', { url: 'http://example.com/', knowledgeBaseId: 'kb-1' })).to.equal('ok');
  });

  it('refuses a missing URL, other schemes and text that is no URI', () => {
    expect(check('pages', {})).to.deep.equal(['/ required']);
    expect(check('pages', { url: 'file:///etc/passwd' })).to.deep.equal(['/url pattern']);
    expect(check('pages', { url: 'javascript:alert(1)' })).to.deep.equal(['/url pattern']);
    expect(check('pages', { url: 'not a url' })).to.have.members(['/url format', '/url pattern']);
  });

  it('refuses an empty knowledge base id and a URL over 2048 characters', () => {
    expect(check('pages', { url: 'https://example.com/', knowledgeBaseId: '' })).to.deep.equal(['/knowledgeBaseId minLength']);
    expect(check('pages', { url: `https://example.com/${'a'.repeat(2048)}` })).to.deep.equal(['/url maxLength']);
  });
});
