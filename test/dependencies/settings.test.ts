import { expect } from 'chai';
import { loadDependenciesConfig } from '../../src/dependencies/registry.js';
import { isServiceError } from '../../src/errors/serviceError.js';

function configError(env: Record<string, string>): { code: string; message: string } {
  try {
    loadDependenciesConfig(env);
  } catch (e) {
    if (isServiceError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadDependenciesConfig', () => {
  it('gives every dependency conservative defaults', () => {
    const config = loadDependenciesConfig({});
    expect(config.audnex).to.deep.equal({
      url: 'https://api.audnex.us',
      rate: 1,
      burst: 1,
      concurrency: 1,
      timeoutMs: 10_000,
      maxQueue: 100,
      breakerThreshold: 5,
      breakerCooldownMs: 30_000,
      breakerMaxCooldownMs: 300_000,
    });
    expect(config.browser).to.deep.include({ concurrency: 5, burst: 5, chromiumPath: '/usr/bin/chromium' });
    expect(config.openai).to.deep.include({ url: 'https://api.openai.com/v1', tokensPerMinute: 30_000, apiKey: undefined });
    expect(config.inspect).to.deep.equal({ enabled: false, port: 8484 });
  });

  it('reads every variable of a dependency', () => {
    const config = loadDependenciesConfig({
      AUDNEX_URL: 'http://127.0.0.1:9000/',
      AUDNEX_RATE: '0.5',
      AUDNEX_BURST: '2',
      AUDNEX_CONCURRENCY: '3',
      AUDNEX_TIMEOUT_MS: '2500',
      AUDNEX_MAX_QUEUE: '7',
      AUDNEX_BREAKER_THRESHOLD: '2',
      AUDNEX_BREAKER_COOLDOWN_MS: '200',
      AUDNEX_BREAKER_MAX_COOLDOWN_MS: '800',
      MAM_ID: 'abc',
      MAM_EMAIL: 'me@example.com',
      MAM_PASSWORD: 'secret',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://127.0.0.1:9001/v1',
      OPENAI_TOKENS_PER_MINUTE: '1000',
      BOTPRESS_TOKEN: 'bp',
      BOTPRESS_BOT_ID: 'bot-1',
      CHROMIUM_PATH: '/opt/chromium',
      XSTATE_INSPECT: '1',
    });
    expect(config.audnex).to.deep.equal({
      url: 'http://127.0.0.1:9000',
      rate: 0.5,
      burst: 2,
      concurrency: 3,
      timeoutMs: 2500,
      maxQueue: 7,
      breakerThreshold: 2,
      breakerCooldownMs: 200,
      breakerMaxCooldownMs: 800,
    });
    expect(config.mam).to.deep.include({ id: 'abc', email: 'me@example.com', password: 'secret' });
    expect(config.openai).to.deep.include({ apiKey: 'sk-test', url: 'http://127.0.0.1:9001/v1', tokensPerMinute: 1000 });
    expect(config.botpress).to.deep.include({ token: 'bp', botId: 'bot-1' });
    expect(config.browser.chromiumPath).to.equal('/opt/chromium');
    expect(config.inspect.enabled).to.equal(true);
  });

  it('refuses a bad value with CONFIG_INVALID naming the variable and the value', () => {
    expect(configError({ AUDNEX_RATE: 'fast' })).to.deep.equal({ code: 'CONFIG_INVALID', message: "AUDNEX_RATE must be a number, got 'fast'" });
    expect(configError({ MAM_CONCURRENCY: '0' }).message).to.equal('MAM_CONCURRENCY must be between 1 and 1000, got 0');
    expect(configError({ BOTPRESS_URL: 'ftp://x' }).message).to.contain("BOTPRESS_URL must be an http(s) URL, got 'ftp://x'");
    expect(configError({ OPENAI_RATE: '0' }).message).to.contain('OPENAI_RATE');
    expect(configError({ BROWSER_BREAKER_COOLDOWN_MS: '60000', BROWSER_BREAKER_MAX_COOLDOWN_MS: '1000' }).message).to.contain('BROWSER_BREAKER_MAX_COOLDOWN_MS');
    expect(configError({ XSTATE_INSPECT: 'maybe' }).message).to.contain('XSTATE_INSPECT');
  });

  it('treats an empty value as unset but checks an explicit 0', () => {
    expect(loadDependenciesConfig({ AUDNEX_RATE: '' }).audnex.rate).to.equal(1);
    expect(configError({ AUDNEX_MAX_QUEUE: '0' }).message).to.equal('AUDNEX_MAX_QUEUE must be between 1 and 1000000, got 0');
  });

  it('refuses two different OpenAI base URLs', () => {
    expect(configError({ OPENAI_URL: 'http://a', OPENAI_BASE_URL: 'http://b' }).message).to.contain('set only one');
    expect(loadDependenciesConfig({ OPENAI_URL: 'http://a' }).openai.url).to.equal('http://a');
  });

  it('reads BROWSER_ALLOW_HOSTS as host[:port] entries, normalised as a browser spells hosts', () => {
    expect(loadDependenciesConfig({}).browser.allowHosts).to.deep.equal([]);
    expect(loadDependenciesConfig({ BROWSER_ALLOW_HOSTS: '127.1:8080, [::1], Intranet.Example:443,0x7f.0.0.1' }).browser.allowHosts).to.deep.equal([
      { host: '127.0.0.1', port: 8080 },
      { host: '[::1]' },
      { host: 'intranet.example', port: 443 },
      { host: '127.0.0.1' },
    ]);
    for (const bad of ['http://127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'a/b', '::1', 'host:port', 'user@host']) {
      expect(configError({ BROWSER_ALLOW_HOSTS: bad }).message, bad).to.match(/^BROWSER_ALLOW_HOSTS must be a comma-separated list of host\[:port\]/);
    }
  });
});
