import { expect } from 'chai';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import { PROJECT_HAIL_MARY, startAudnexStub } from '../stubs/audnex.js';
import { startMamStub, type MamStub } from '../stubs/mam.js';
import { startOpenAIStub, type OpenAIStub } from '../stubs/openai.js';
import { startBotpressStub, type BotpressStub } from '../stubs/botpress.js';
import { startPagesStub } from '../stubs/pages.js';
import type { StubServer } from '../stubs/stubServer.js';
import { kvKey } from '../../src/store/kvKey.js';
import type { RunningService } from '../../src/service.js';

const ADMIN = 'admin-token-for-tests-0123456789';

/** The webhook's status with its stored result (which only the admin token shows). */
async function statusOf(service: RunningService, source: string, id: string): Promise<any> {
  const r = await fetch(`${service.url}/webhooks/${source}/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return r.status === 200 ? r.json() : undefined;
}

const settled = (service: RunningService, source: string, id: string) =>
  waitFor(`${id} settled`, async () => {
    const s = await statusOf(service, source, id);
    return s && (s.status === 'done' || s.status === 'dead') ? s : undefined;
  }, { timeoutMs: 45_000 });

describe('pipelines with their dependencies', function () {
  this.timeout(90_000);
  let nats: TestNats;
  let service: RunningService;
  let nc: NatsConnection;
  let audnex: StubServer;
  let mam: MamStub;
  let openai: OpenAIStub;
  let botpress: BotpressStub;
  let site: StubServer;

  before(async () => {
    [nats, audnex, mam, openai, botpress, site] = await Promise.all([
      TestNats.start(),
      startAudnexStub(),
      startMamStub(),
      startOpenAIStub(),
      startBotpressStub(),
      startPagesStub(),
    ]);
    openai.answer = {
      name: 'Quiet Articles Ltd',
      summary: 'Publishes quiet articles.',
      services: ['Articles'],
      contacts: { emails: ['hello@example.com'], phones: [], addresses: [] },
    };
    service = await startTestService(
      nats,
      {
        AUDNEX_URL: audnex.url,
        AUDNEX_RATE: '50',
        MAM_URL: mam.url,
        MAM_ID: mam.openSession(),
        MAM_RATE: '50',
        OPENAI_BASE_URL: openai.baseUrl,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_RATE: '50',
        BOTPRESS_URL: botpress.server.url,
        BOTPRESS_TOKEN: 'bp-token',
        BOTPRESS_BOT_ID: 'bot-1',
        BOTPRESS_RATE: '50',
        BOTPRESS_KB_ID: 'kb-default',
        BROWSER_RATE: '50',
        ADMIN_TOKEN: ADMIN,
        // The pages stub is on loopback, which the browser refuses unless allow-listed.
        BROWSER_ALLOW_HOSTS: new URL(site.url).host,
      },
      { edge: true, processing: true },
    );
    ({ nc } = await inspector(nats));
  });

  after(async () => {
    await nc?.close();
    await service?.stop();
    await Promise.all([audnex, mam, openai, botpress, site].map((s) => s?.close()));
    await nats?.dispose();
  });

  it('audiobooks: joins Audnex metadata and MAM candidates into one record by ASIN', async () => {
    await postWebhook(service.url, 'audiobooks', { asin: PROJECT_HAIL_MARY.asin }, { 'webhook-id': 'book-1' });
    const s = await settled(service, 'audiobooks', 'book-1');
    expect(s.status, JSON.stringify(s.lastError)).to.equal('done');
    expect(s.result.key).to.equal(PROJECT_HAIL_MARY.asin);
    const record = s.result.value;
    expect(record).to.include({ asin: PROJECT_HAIL_MARY.asin, title: PROJECT_HAIL_MARY.title, audnex: 'found' });
    expect(record.metadata.narrators).to.deep.equal(PROJECT_HAIL_MARY.narrators);
    expect(record.candidates.map((c: { title: string }) => c.title)).to.include('Project Hail Mary');
    expect(mam.searches.at(-1)!.body).to.have.nested.property('tor.text').that.contains('Project Hail Mary');
  });

  it('audiobooks: searches MAM by title and author when there is no ASIN, keyed by both', async () => {
    await postWebhook(service.url, 'audiobooks', { title: 'The Martian', author: 'Andy Weir' }, { 'webhook-id': 'book-2' });
    const s = await settled(service, 'audiobooks', 'book-2');
    expect(s.status).to.equal('done');
    expect(s.result.key).to.equal(kvKey('the martian|andy weir'));
    expect(s.result.value).to.include({ audnex: 'skipped', title: 'The Martian' });
    expect(s.result.value.candidates[0].title).to.equal('The Martian');
  });

  it('pages: scrapes, extracts with OpenAI and indexes a knowledge-base file, keyed by URL', async () => {
    const url = `${site.url}/article`;
    await postWebhook(service.url, 'pages', { url, knowledgeBaseId: 'kb-1' }, { 'webhook-id': 'page-1' });
    const s = await settled(service, 'pages', 'page-1');
    expect(s.status, JSON.stringify(s.lastError)).to.equal('done');
    expect(s.result.key).to.equal(kvKey(url));
    const record = s.result.value;
    expect(record).to.include({ url, title: 'A Quiet Article' });
    expect(record.business.name).to.equal('Quiet Articles Ltd');
    expect(record.knowledgeBase.kbId).to.equal('kb-1');
    const prompt = JSON.stringify(openai.completions.at(-1));
    expect(prompt).to.contain('Ryland Grace wakes up alone');
    const files = [...botpress.files.values()];
    expect(files).to.have.length(1);
    expect(files[0]!.status).to.equal('indexing_completed');

    const kv = await new Kvm(nc).open('pages');
    expect((await kv.get(kvKey(url)))?.json<{ url: string }>().url).to.equal(url);
  });

  it('pages: a resent page replaces its knowledge-base file instead of adding one', async () => {
    const url = `${site.url}/article`;
    await postWebhook(service.url, 'pages', { url, knowledgeBaseId: 'kb-1' }, { 'webhook-id': 'page-1-again' });
    expect((await settled(service, 'pages', 'page-1-again')).status).to.equal('done');
    expect([...botpress.files.values()]).to.have.length(1);
  });

  it('pages: a page leading to a loopback service that is not allow-listed is dead-lettered at once with DEP_TARGET_FORBIDDEN', async () => {
    // The Audnex stub stands in for an internal service: on loopback, not in BROWSER_ALLOW_HOSTS.
    const url = `${site.url}/redirect?to=${encodeURIComponent(`${audnex.url}/internal`)}`;
    await postWebhook(service.url, 'pages', { url, knowledgeBaseId: 'kb-1' }, { 'webhook-id': 'page-internal' });
    const s = await settled(service, 'pages', 'page-internal');
    expect(s.status).to.equal('dead');
    expect(s.deliveries).to.equal(1);
    expect(s.lastError.code).to.equal('DEP_TARGET_FORBIDDEN');
    expect(audnex.calls.filter((c) => c.path === '/internal'), 'requests that reached the internal service').to.deep.equal([]);
  });

  it('pages: a missing page is dead-lettered at once', async () => {
    await postWebhook(service.url, 'pages', { url: `${site.url}/missing` }, { 'webhook-id': 'page-404' });
    const s = await settled(service, 'pages', 'page-404');
    expect(s.status).to.equal('dead');
    expect(s.deliveries).to.equal(1);
    expect(s.lastError.code).to.equal('PROCESSING_UNPROCESSABLE');
  });
});
