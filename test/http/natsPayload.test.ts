import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { loadConfig } from '../../src/serviceConfig.js';
import type { Env } from '../../src/config/parse.js';
import { startService, type RunningService } from '../../src/service.js';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, ORDER_BODY, postWebhook } from '../helpers/service.js';

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** The service's edge against `nats`, with its log lines collected. */
async function startLogged(nats: TestNats, env: Env = {}): Promise<{ service: RunningService; logged: LogLine[] }> {
  const logged: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ...env });
  const service = await startService(config, pino({ level: 'debug' }, sink), nats.url, { edge: true, processing: false });
  await service.link.whenReady();
  return { service, logged };
}

/** A valid `pages` body of about `bytes` bytes. */
const pageOf = (bytes: number) => JSON.stringify({ url: 'https://example.com/', padding: 'x'.repeat(bytes - 40) });

describe('a body the NATS server cannot carry', () => {
  let nats: TestNats;
  let service: RunningService;
  let logged: LogLine[];

  before(async () => {
    // The NATS default is 1 MB; a small limit keeps the test light and works the same way.
    nats = await TestNats.start({ maxPayload: '64KB' });
    ({ service, logged } = await startLogged(nats));
  });
  after(async () => {
    await service?.stop();
    await nats?.dispose();
  });

  it('warns at start that MAX_BODY_BYTES is above the server max_payload', () => {
    const warning = logged.find((l) => l.level === 40 && /MAX_BODY_BYTES/.test(l.msg));
    expect(warning, JSON.stringify(logged.map((l) => l.msg))).to.not.equal(undefined);
    expect(warning).to.include({ maxBodyBytes: 1024 * 1024, maxPayload: 64 * 1024 });
  });

  it('refuses a body that fits MAX_BODY_BYTES but not max_payload with 413, storing nothing', async () => {
    const { nc, count } = await inspector(nats);
    try {
      const before = await count();
      const res = await postWebhook(service.url, 'pages', pageOf(100 * 1024));
      expect(res.status, JSON.stringify(res.json)).to.equal(413);
      expect(res.json.error.code).to.equal('INGEST_BODY_TOO_LARGE');
      expect(res.json.error.message).to.match(/max_payload \(65536 bytes\)/);
      expect(res.headers.get('retry-after')).to.equal(null);
      expect(await count()).to.equal(before);
    } finally {
      await nc.close();
    }
  });

  it('keeps the NATS connection: the next webhook is stored', async () => {
    expect((await postWebhook(service.url, 'pages', pageOf(100 * 1024))).status).to.equal(413);
    const res = await postWebhook(service.url, 'orders', ORDER_BODY);
    expect(res.status, JSON.stringify(res.json)).to.equal(202);
    expect(service.link.ready).to.equal(true);
  });

  it('stores a body that fits with its headers', async () => {
    const res = await postWebhook(service.url, 'pages', pageOf(60 * 1024));
    expect(res.status, JSON.stringify(res.json)).to.equal(202);
  });
});

describe('publish errors', () => {
  let nats: TestNats;
  let service: RunningService;

  before(async () => {
    nats = await TestNats.start();
    ({ service } = await startLogged(nats, { WEBHOOKS_MAX_MSGS: '2' }));
  });
  after(async () => {
    await service?.stop();
    await nats?.dispose();
  });

  it('reports a full stream as refused, with the JetStream error code, and retriable', async () => {
    for (const id of ['full-1', 'full-2']) expect((await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': id })).status).to.equal(202);
    const res = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'full-3' });
    expect(res.status).to.equal(503);
    expect(res.json.error.code).to.equal('INGEST_STREAM_REFUSED');
    expect(res.json.error.details).to.deep.equal({ errCode: 10077 });
    expect(res.json.error.message).to.match(/maximum messages.*err_code 10077/);
    expect(res.headers.get('retry-after')).to.equal('30');
  });

  it('reports a closed connection as closed', async () => {
    await service.link.nc!.close();
    const res = await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': 'closed-1' });
    expect(res.status).to.equal(503);
    expect(res.json.error.code).to.equal('INGEST_STREAM_UNAVAILABLE');
    expect(res.json.error.details).to.deep.equal({ reason: 'closed' });
  });
});
