import { expect } from 'chai';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TestNats } from '../helpers/natsServer.js';
import { idOf, parentOf, recordSpans } from '../helpers/recordedSpans.js';
import { postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import { startMamStub, type MamStub } from '../stubs/mam.js';
import type { StubServer } from '../stubs/stubServer.js';
import type { RunningService } from '../../src/service.js';
import { SpanAttributes as A } from '../../src/tracing/tracer.js';

const SENDER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const senderParent = (spanId: string) => `00-${SENDER_TRACE}-${spanId}-01`;


describe('one trace per webhook', function () {
  this.timeout(90_000);
  const exporter = recordSpans();
  let nats: TestNats;
  let audnex: StubServer;
  let mam: MamStub;
  let edge: RunningService;
  let processing: RunningService;

  before(async () => {
    [nats, audnex, mam] = await Promise.all([TestNats.start(), startAudnexStub(), startMamStub()]);
    // One token a second and a burst of one: of two calls made together, one waits in the mailbox.
    const env = { AUDNEX_URL: audnex.url, AUDNEX_RATE: '1', AUDNEX_BURST: '1', MAM_URL: mam.url, MAM_ID: mam.openSession(), MAM_RATE: '50' };
    // Two instances that share nothing but NATS: the trace context can only cross in the message headers.
    edge = await startTestService(nats, env, { edge: true, processing: false });
    processing = await startTestService(nats, env, { edge: false, processing: true });
    // Calls made before the instance owns its dependencies are retried; this test is about one delivery.
    await waitFor('the processing instance to own audnex and mam', () => ['audnex', 'mam'].every((d) => processing!.ownership?.isOwner(d)), { timeoutMs: 20_000 });
  });

  after(async () => {
    await edge?.stop();
    await processing?.stop();
    await Promise.all([audnex?.close(), mam?.close()]);
    await nats?.dispose();
  });

  it('links the sender, the edge, each delivery and each dependency call, with the mailbox wait', async () => {
    const senders = ['00f067aa0ba902b7', '00f067aa0ba902b8'];
    const answers = await Promise.all(
      senders.map((spanId, i) =>
        postWebhook(edge.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': `traced-${i}`, traceparent: senderParent(spanId) }),
      ),
    );
    expect(answers.map((a) => a.status)).to.deep.equal([202, 202]);
    const acked = () => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER && s.attributes[A.outcome] === 'ack');
    await waitFor('both deliveries acked', () => acked().length === 2, { timeoutMs: 45_000 });

    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((s) => [idOf(s), s]));
    const calls = spans.filter((s) => s.name === 'dependency.call audnex');
    expect(calls).to.have.length(2);
    const wait = (s: ReadableSpan) => s.attributes[A.mailboxWaitMs] as number;
    const waited = calls.reduce((a, b) => (wait(b) > wait(a) ? b : a));
    // The second call waited for the next token, about a second.
    expect(wait(waited)).to.be.greaterThan(200);

    // Walk from the call that waited up to the sender's span.
    const chain: ReadableSpan[] = [waited];
    for (let s = byId.get(parentOf(waited)!); s; s = byId.get(parentOf(s)!)) chain.push(s);
    expect(chain.map((s) => [s.name, s.kind])).to.deep.equal([
      ['dependency.call audnex', SpanKind.CLIENT],
      ['process webhooks.audiobooks', SpanKind.CONSUMER],
      ['publish webhooks.audiobooks', SpanKind.PRODUCER],
      ['POST /webhooks/:source', SpanKind.SERVER],
    ]);
    expect(new Set(chain.map((s) => s.spanContext().traceId))).to.deep.equal(new Set([SENDER_TRACE]));
    const [call, processed, sent, server] = chain as [ReadableSpan, ReadableSpan, ReadableSpan, ReadableSpan];
    expect(senders).to.include(parentOf(server));

    expect(call.attributes).to.include({ [A.dependencyName]: 'audnex', [A.breakerState]: 'closed' });
    expect(processed.attributes).to.include({
      [A.messagingSystem]: 'nats',
      [A.destinationName]: 'webhooks.audiobooks',
      [A.operationType]: 'process',
      [A.deliveryCount]: 1,
      [A.outcome]: 'ack',
    });
    expect(processed.events.map((e) => e.name)).to.include.members(['webhook.results.stored', 'webhook.ack']);
    expect(sent.attributes).to.include({ [A.messagingSystem]: 'nats', [A.operationType]: 'send', [A.destinationName]: 'webhooks.audiobooks' });
    expect(sent.events.map((e) => e.name)).to.include('webhook.acked');
    // Messaging spans are named `{messaging.operation.name} {destination}`.
    for (const s of [sent, processed]) expect(s.name).to.equal(`${String(s.attributes[A.operationName])} ${String(s.attributes[A.destinationName])}`);
    expect(server.attributes).to.include({
      'http.request.method': 'POST',
      'http.route': '/webhooks/:source',
      'http.response.status_code': 202,
      'url.path': '/webhooks/audiobooks',
    });
    expect(server.events.map((e) => e.name)).to.include('webhook.validated');

    // The MAM search of the same delivery is a sibling of the Audnex call.
    const search = spans.find((s) => s.name === 'dependency.call mam' && parentOf(s) === idOf(processed));
    expect(search, 'the MAM call of the same delivery').to.not.equal(undefined);
  });
  it('gives each redelivery its own CONSUMER span under the same send: nak with the failure, then ack', async () => {
    const RETRY_TRACE = '0af7651916cd43dd8448eb211c80319c';
    audnex.failNext({ kind: 'status', status: 503 });
    const answer = await postWebhook(edge.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'traced-retry', traceparent: `00-${RETRY_TRACE}-00f067aa0ba902b9-01` });
    expect(answer.status).to.equal(202);
    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === RETRY_TRACE);
    const deliveries = () => inTrace().filter((s) => s.kind === SpanKind.CONSUMER);
    await waitFor('the second delivery acked', () => deliveries().some((s) => s.attributes[A.outcome] === 'ack'), { timeoutMs: 45_000 });

    const processed = deliveries().sort((a, b) => (a.attributes[A.deliveryCount] as number) - (b.attributes[A.deliveryCount] as number));
    expect(processed.map((s) => [s.attributes[A.deliveryCount], s.attributes[A.outcome]])).to.deep.equal([
      [1, 'nak'],
      [2, 'ack'],
    ]);
    const sent = inTrace().find((s) => s.kind === SpanKind.PRODUCER)!;
    expect(processed.map(parentOf), 'both deliveries are children of the one send').to.deep.equal([idOf(sent), idOf(sent)]);
    const nak = processed[0]!.events.find((e) => e.name === 'webhook.nak');
    expect(nak?.attributes).to.have.property(A.errorCode, 'DEP_SERVER_ERROR');
    expect(nak?.attributes?.[A.retryDelayMs]).to.be.a('number');
    const failedCall = inTrace().find((s) => s.name === 'dependency.call audnex' && parentOf(s) === idOf(processed[0]!));
    expect(failedCall?.status.code, 'the failed Audnex call is marked as an error').to.equal(2);
  });
});
