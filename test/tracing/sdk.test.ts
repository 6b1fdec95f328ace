import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { headers } from '@nats-io/transport-node';
import { context, propagation, trace } from '@opentelemetry/api';
import { serverSpan } from '../../src/http/serverSpan.js';
import { endSendSpan, startSendSpan } from '../../src/tracing/messagingSpans.js';
import { startTracing, tracingRequested } from '../../src/tracing/sdk.js';
import { tracer } from '../../src/tracing/tracer.js';

/** An OTLP/HTTP receiver on loopback that keeps every JSON export request it gets. */
async function startReceiver(): Promise<{ server: Server; url: string; exports: any[] }> {
  const exports: any[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports };
}

/** OTLP JSON attributes (`[{ key, value: { stringValue | intValue ... } }]`) as a plain object. */
function attributesOf(list: { key: string; value: Record<string, unknown> }[]): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));
}

describe('tracing start-up', () => {
  describe('tracingRequested', () => {
    it('asks for traces only for an endpoint or an exporter, unless the SDK is disabled', () => {
      expect(tracingRequested({})).to.equal(false);
      expect(tracingRequested({ OTEL_SERVICE_NAME: 'relay', OTEL_TRACES_SAMPLER: 'always_on' })).to.equal(false);
      expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).to.equal(true);
      expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).to.equal(true);
      expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' })).to.equal(true);
      expect(tracingRequested({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).to.equal(false);
      expect(tracingRequested({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).to.equal(false);
    });
  });

  describe('without OTEL variables', () => {
    it('starts no SDK: the tracer is the no-op one and no span records', () => {
      expect(startTracing({})).to.equal(undefined);
      const span = tracer().startSpan('nothing');
      expect(span.isRecording()).to.equal(false);
      expect(trace.isSpanContextValid(span.spanContext())).to.equal(false);
      span.end();
    });
  });

  describe('with an OTLP/HTTP endpoint', () => {
    const saved = { ...process.env };
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let app: Server | undefined;

    before(async () => {
      receiver = await startReceiver();
    });

    afterEach(async () => {
      process.env = { ...saved };
      trace.disable();
      context.disable();
      propagation.disable();
      await new Promise((r) => (app ? app.close(r) : r(undefined)));
      app = undefined;
      receiver.exports.length = 0;
    });

    after(async () => {
      process.env = saved;
      await new Promise((r) => receiver?.server.close(r));
    });

    /**
     * Starts tracing with the OTLP receiver and `env` in the process
     * environment (which the SDK reads), serves one webhook POST that
     * publishes, shuts tracing down (flushing the batch) and returns what
     * the receiver got.
     */
    async function exportOneRequest(env: Record<string, string>): Promise<{ resource: Record<string, unknown>; spans: any[] }> {
      delete process.env.OTEL_SERVICE_NAME;
      delete process.env.OTEL_RESOURCE_ATTRIBUTES;
      Object.assign(process.env, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...env });
      const tracing = startTracing(process.env);
      expect(tracing).to.not.equal(undefined);

      const koa = new Koa();
      const router = new Router();
      router.post('/webhooks/:source', (ctx) => {
        endSendSpan(startSendSpan(`webhooks.${ctx.params.source}`, 'otlp-1', headers()), { seq: 7, duplicate: false });
        ctx.status = 202;
      });
      koa.use(serverSpan());
      koa.use(router.routes());
      const handle = koa.callback();
      // Koa settles its own errors; the returned promise needs no one to wait for it.
      const server = createServer((req, res) => void handle(req, res));
      app = server;
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/orders`, { method: 'POST' });
      expect(res.status).to.equal(202);

      // Shutting down flushes the batch.
      await tracing!.shutdown();
      const resourceSpans = receiver.exports.flatMap((e) => e.resourceSpans);
      expect(resourceSpans).to.have.length.greaterThan(0);
      return {
        resource: attributesOf(resourceSpans[0].resource.attributes),
        spans: resourceSpans.flatMap((r: any) => r.scopeSpans).flatMap((sc: any) => sc.spans),
      };
    }

    it('exports the spans of a request to the collector, with the service name', async () => {
      const { resource, spans } = await exportOneRequest({ OTEL_SERVICE_NAME: 'relay-under-test' });
      expect(resource['service.name']).to.equal('relay-under-test');
      const byName = new Map(spans.map((sp: any) => [sp.name, sp]));
      expect([...byName.keys()]).to.have.members(['POST /webhooks/:source', 'publish webhooks.orders']);
      const server: any = byName.get('POST /webhooks/:source');
      const send: any = byName.get('publish webhooks.orders');
      expect(send.traceId).to.equal(server.traceId);
      expect(send.parentSpanId).to.equal(server.spanId);
      expect(attributesOf(server.attributes)).to.include({ 'http.request.method': 'POST', 'http.route': '/webhooks/:source' });
      expect(attributesOf(send.attributes)).to.include({
        'messaging.system': 'nats',
        'messaging.destination.name': 'webhooks.orders',
        'messaging.operation.type': 'send',
        'messaging.message.id': 'otlp-1',
      });
    });

    it('names the producer span after its messaging.operation.name and destination', async () => {
      const { spans } = await exportOneRequest({});
      const messaging = spans.map((sp: any) => ({ name: sp.name, attributes: attributesOf(sp.attributes) })).filter((sp) => 'messaging.operation.name' in sp.attributes);
      expect(messaging).to.have.length(1);
      for (const { name, attributes } of messaging) {
        expect(name).to.equal(`${String(attributes['messaging.operation.name'])} ${String(attributes['messaging.destination.name'])}`);
      }
    });

    it('takes service.name from OTEL_RESOURCE_ATTRIBUTES over its own default, with the other attributes given there', async () => {
      const { resource } = await exportOneRequest({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=relay-from-attributes,deployment.environment.name=staging' });
      expect(resource).to.include({ 'service.name': 'relay-from-attributes', 'deployment.environment.name': 'staging' });
    });

    it('lets OTEL_SERVICE_NAME win over a service.name in OTEL_RESOURCE_ATTRIBUTES', async () => {
      const { resource } = await exportOneRequest({ OTEL_SERVICE_NAME: 'relay-by-name', OTEL_RESOURCE_ATTRIBUTES: 'service.name=relay-from-attributes' });
      expect(resource['service.name']).to.equal('relay-by-name');
    });

    it('names the service webhook-relay when neither variable does, beside the SDK\'s own attributes', async () => {
      const { resource } = await exportOneRequest({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging' });
      expect(resource).to.include({ 'service.name': 'webhook-relay', 'deployment.environment.name': 'staging', 'telemetry.sdk.language': 'nodejs' });
    });
  });
});
