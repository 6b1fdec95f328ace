import { expect } from 'chai';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { RunningService } from '../../src/service.js';
import { SpanAttributes as A } from '../../src/tracing/tracer.js';
import { TestNats } from '../helpers/natsServer.js';
import { idOf, parentOf, recordSpans } from '../helpers/recordedSpans.js';
import { postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import { startMamStub, type MamStub } from '../stubs/mam.js';
import type { StubServer } from '../stubs/stubServer.js';

const TRACE = '5bf92f3577b34da6a3ce929d0e0e4737';

describe('one trace per webhook when its dependency calls are forwarded to another instance', function () {
  this.timeout(90_000);
  const exporter = recordSpans();
  let nats: TestNats;
  let audnex: StubServer;
  let mam: MamStub;
  let owner: RunningService;
  let caller: RunningService;

  before(async () => {
    [nats, audnex, mam] = await Promise.all([TestNats.start(), startAudnexStub(), startMamStub()]);
    const env = { AUDNEX_URL: audnex.url, AUDNEX_RATE: '50', MAM_URL: mam.url, MAM_ID: mam.openSession(), MAM_RATE: '50' };
    // The owner pulls nothing (no pipelines): the webhook is processed by the caller, whose calls go to the owner.
    owner = await startTestService(nats, { ...env, INSTANCE_ID: 'owner' }, { edge: false, processing: true }, new Map());
    await waitFor('the owner to own audnex and mam', () => ['audnex', 'mam'].every((d) => owner.ownership?.isOwner(d)), { timeoutMs: 20_000 });
    caller = await startTestService(nats, { ...env, INSTANCE_ID: 'caller' }, { edge: true, processing: true });
  });

  after(async () => {
    await caller?.stop(1000);
    await owner?.stop(1000);
    await Promise.all([audnex?.close(), mam?.close()]);
    await nats?.dispose();
  });

  it("links the caller's delivery, its forwarded call, the owner's handling and the owner's dependency call", async () => {
    expect(caller.ownership!.isOwner('audnex')).to.equal(false);
    const answer = await postWebhook(caller.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'forwarded-trace', traceparent: `00-${TRACE}-00f067aa0ba902c1-01` });
    expect(answer.status).to.equal(202);
    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE);
    await waitFor('the delivery acked', () => inTrace().some((s) => s.kind === SpanKind.CONSUMER && s.attributes[A.outcome] === 'ack'), { timeoutMs: 45_000 });

    const spans = inTrace();
    const byId = new Map(spans.map((s) => [idOf(s), s]));
    const call = spans.find((s) => s.name === 'dependency.call audnex');
    expect(call, 'the owner recorded its Audnex call in the webhook trace').to.not.equal(undefined);
    const chain: ReadableSpan[] = [call!];
    for (let s = byId.get(parentOf(call!)!); s; s = byId.get(parentOf(s)!)) chain.push(s);
    expect(chain.map((s) => [s.name, s.kind])).to.deep.equal([
      ['dependency.call audnex', SpanKind.CLIENT],
      ['process webhook-relay.dep.audnex.call', SpanKind.SERVER],
      ['send webhook-relay.dep.audnex.call', SpanKind.CLIENT],
      ['process webhooks.audiobooks', SpanKind.CONSUMER],
      ['publish webhooks.audiobooks', SpanKind.PRODUCER],
      ['POST /webhooks/:source', SpanKind.SERVER],
    ]);
    const [, served, forwarded] = chain as [ReadableSpan, ReadableSpan, ReadableSpan];
    for (const s of [served, forwarded]) {
      expect(s.attributes).to.include({ [A.messagingSystem]: 'nats', [A.destinationName]: 'webhook-relay.dep.audnex.call', [A.dependencyName]: 'audnex' });
      expect(s.name).to.equal(`${String(s.attributes[A.operationName])} ${String(s.attributes[A.destinationName])}`);
    }
    // The MAM search was forwarded the same way, a sibling under the same delivery.
    const mamForward = spans.find((s) => s.name === 'send webhook-relay.dep.mam.call');
    expect(parentOf(mamForward!)).to.equal(idOf(chain[3]!));
  });

  it('marks both sides failed with the dependency error code when the owner answers an error', async () => {
    const FAILED_TRACE = '6bf92f3577b34da6a3ce929d0e0e4738';
    audnex.failNext({ kind: 'status', status: 503 });
    await postWebhook(caller.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'forwarded-failure', traceparent: `00-${FAILED_TRACE}-00f067aa0ba902c2-01` });
    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === FAILED_TRACE);
    await waitFor('the retried delivery acked', () => inTrace().some((s) => s.kind === SpanKind.CONSUMER && s.attributes[A.outcome] === 'ack'), { timeoutMs: 45_000 });
    const failed = inTrace().filter((s) => s.name.endsWith('webhook-relay.dep.audnex.call') && s.status.code === SpanStatusCode.ERROR);
    expect(failed.map((s) => [s.kind, s.attributes[ATTR_ERROR_TYPE]]).sort()).to.deep.equal([
      [SpanKind.CLIENT, 'DEP_SERVER_ERROR'],
      [SpanKind.SERVER, 'DEP_SERVER_ERROR'],
    ].sort());
  });
});
