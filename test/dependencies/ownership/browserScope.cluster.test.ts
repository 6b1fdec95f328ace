import { expect } from 'chai';
import { createPipelines } from '../../../src/sources/registry.js';
import type { RunningService } from '../../../src/service.js';
import { TestNats } from '../../helpers/natsServer.js';
import { postWebhook, startTestService } from '../../helpers/service.js';
import { waitFor } from '../../helpers/waitFor.js';
import { startAudnexStub } from '../../stubs/audnex.js';
import { startBotpressStub, type BotpressStub } from '../../stubs/botpress.js';
import { startOpenAIStub, type OpenAIStub } from '../../stubs/openai.js';
import { startPagesStub } from '../../stubs/pages.js';
import type { StubServer } from '../../stubs/stubServer.js';

const ADMIN = 'admin-token-for-tests-0123456789';

let last: unknown;
async function settled(service: RunningService, id: string): Promise<any> {
  return waitFor(
    `${id} settled`,
    async () => {
      const r = await fetch(`${service.url}/webhooks/pages/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
      const s = r.status === 200 ? ((await r.json()) as { status: string }) : undefined;
      if (s) last = s;
      return s && (s.status === "done" || s.status === "dead") ? s : undefined;
    },
    { timeoutMs: 45_000 },
  ).catch((e: unknown) => {
    throw new Error(`${String(e)} last=${JSON.stringify(last)}`);
  });
}

describe('BROWSER_SCOPE=cluster: a scrape forwarded to the browser owner', function () {
  this.timeout(120_000);
  let nats: TestNats;
  let owner: RunningService;
  let caller: RunningService;
  let site: StubServer;
  let internal: StubServer;
  let openai: OpenAIStub;
  let botpress: BotpressStub;

  before(async () => {
    [nats, site, internal, openai, botpress] = await Promise.all([TestNats.start(), startPagesStub(), startAudnexStub(), startOpenAIStub(), startBotpressStub()]);
    openai.answer = { name: 'Quiet Articles Ltd', summary: 'Publishes quiet articles.', services: [], contacts: { emails: [], phones: [], addresses: [] } };
    const env = {
      BROWSER_SCOPE: 'cluster',
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: 'sk-test',
      BOTPRESS_URL: botpress.server.url,
      BOTPRESS_TOKEN: 'bp-token',
      BOTPRESS_BOT_ID: 'bot-1',
      BOTPRESS_KB_ID: 'kb-default',
      ADMIN_TOKEN: ADMIN,
      // The page is on loopback, which the browser refuses unless allow-listed; the "internal" stub is not.
      BROWSER_ALLOW_HOSTS: new URL(site.url).host,
    };
    // The owner pulls no pages itself (no pages pipeline), so every scrape reaches it from the caller over NATS.
    owner = await startTestService(nats, { ...env, INSTANCE_ID: 'browser-owner' }, { edge: true, processing: true }, new Map());
    await waitFor('the owner to own the browser', () => owner.ownership!.isOwner('browser'), { timeoutMs: 20_000 });
    caller = await startTestService(nats, { ...env, INSTANCE_ID: 'browser-caller' }, { edge: true, processing: true }, createPipelines({ defaultKnowledgeBaseId: 'kb-default' }));
  });

  after(async () => {
    await caller?.stop(1000);
    await owner?.stop(1000);
    await Promise.all([site, internal, openai, botpress].map((s) => s?.close()));
    await nats?.dispose();
  });

  it('runs the scrape in the owner and stores the page the caller processed', async () => {
    expect(caller.ownership!.isOwner('browser')).to.equal(false);
    const url = `${site.url}/article`;
    await postWebhook(caller.url, 'pages', { url }, { 'webhook-id': 'forwarded-page' });
    const s = await settled(caller, 'forwarded-page');
    expect(s.status, JSON.stringify(s.lastError)).to.equal('done');
    expect(s.result.value).to.include({ url, title: 'A Quiet Article' });
    expect(owner.actors!.runtime.status('browser')!.counters.ok).to.equal(1);
    expect(caller.actors!.runtime.status('browser')!.activity).to.equal('elsewhere');
  });

  it('refuses a forwarded scrape that leads to a forbidden address with DEP_TARGET_FORBIDDEN, sending nothing there', async () => {
    const url = `${site.url}/redirect?to=${encodeURIComponent(`${internal.url}/internal`)}`;
    await postWebhook(caller.url, 'pages', { url }, { 'webhook-id': 'forwarded-internal' });
    const s = await settled(caller, 'forwarded-internal');
    expect(s.status).to.equal('dead');
    expect(s.deliveries).to.equal(1);
    expect(s.lastError.code).to.equal('DEP_TARGET_FORBIDDEN');
    expect(internal.calls.filter((c) => c.path === '/internal'), 'requests that reached the internal service').to.deep.equal([]);
  });
});
