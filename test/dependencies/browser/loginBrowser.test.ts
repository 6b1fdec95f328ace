import { expect } from 'chai';
import { createLoginBrowser, type LoginBrowser } from '../../../src/dependencies/browser/loginBrowser.js';
import { chromiumBrowsers } from '../../helpers/chromiumProcesses.js';
import { failureOf } from '../../helpers/outcomes.js';
import { waitFor } from '../../helpers/waitFor.js';
import { FORM_ACCOUNT, startPagesStub } from '../../stubs/pages.js';
import { StubServer } from '../../stubs/stubServer.js';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('login browser (a form submitted where its credentials are)', function () {
  this.timeout(60_000);
  let site: StubServer;
  /** Stands in for the service's own HTTP server and its admin routes. */
  let admin: StubServer;
  let adminPort: number;
  let login: LoginBrowser;

  before(async () => {
    site = await startPagesStub();
    admin = await StubServer.start(() => ({ status: 200, body: {} }));
    adminPort = Number(new URL(admin.url).port);
    login = createLoginBrowser({ dependency: 'mam', chromiumPath: CHROMIUM_PATH, timeoutMs: 20_000, site: site.url, forbiddenPorts: [adminPort], idleMs: 200 });
  });

  after(async () => {
    await login?.close();
    await site?.close();
    await admin?.close();
  });

  it('fills and submits the configured site form and returns the cookies it set, and closes Chromium once idle', async () => {
    const result = await login.submitForm({
      url: `${site.url}/form`,
      fields: { 'input[name="email"]': FORM_ACCOUNT.email, 'input[name="password"]': FORM_ACCOUNT.password },
      submit: 'input[type="submit"]',
      cookieNames: ['sid'],
    });
    expect(result).to.deep.include({ finalUrl: `${site.url}/welcome`, status: 200 });
    expect(result.cookies).to.have.length(1);
    expect(result.cookies[0]).to.deep.include({ name: 'sid', value: 's3cr3t', domain: '127.0.0.1', path: '/', expires: -1 });
    expect(site.calls.find((c) => c.path === '/session')).to.deep.include({ method: 'POST', status: 302 });
    await waitFor('Chromium to exit once idle', () => chromiumBrowsers().length === 0);
  });

  it('fails with DEP_REJECTED when a selector matches nothing, and refuses the service port with DEP_TARGET_FORBIDDEN', async () => {
    const missing = (await failureOf(login.submitForm({ url: `${site.url}/form`, fields: { '#nope': 'x' }, submit: 'input[type="submit"]' })));
    expect(missing).to.deep.include({ code: 'DEP_REJECTED', retriable: false });
    expect(missing.message).to.include('#nope');
    const forbidden = (await failureOf(login.submitForm({ url: `http://127.0.0.1:${adminPort}/`, fields: { a: 'b' }, submit: 'c' })));
    expect(forbidden.code).to.equal('DEP_TARGET_FORBIDDEN');
    expect(admin.calls).to.deep.equal([]);
  });
});
