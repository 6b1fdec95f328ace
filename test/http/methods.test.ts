import { request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { loadConfig } from '../../src/serviceConfig.js';
import { startService, type RunningService } from '../../src/service.js';
import { TestNats } from '../helpers/natsServer.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

/** Sends `method path` with node:http (fetch refuses TRACE and CONNECT). */
function send(base: string, method: string, path: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: text ? JSON.parse(text) : undefined }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Writes raw bytes and collects the answer until the server closes the connection. */
function sendRaw(base: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(raw));
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.once('error', reject);
    s.once('close', () => resolve(text));
  });
}

describe('HTTP methods the routes do not take', () => {
  let nats: TestNats;
  let service: RunningService;
  const logged: { level: number; msg: string }[] = [];

  before(async () => {
    nats = await TestNats.start();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug' });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) logged.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    service = await startService(config, pino({ level: 'debug' }, sink), nats.url, { edge: true, processing: false });
    await service.link.whenReady();
  });

  after(async () => {
    await service?.stop();
    await nats?.dispose();
  });

  beforeEach(() => {
    logged.length = 0;
  });

  /** An unsupported method is the client's mistake: nothing at warn level or above. */
  function expectNothingLoggedAsError(): void {
    expect(logged.filter((l) => l.level >= 40), 'warn/error log lines').to.deep.equal([]);
  }

  it('answers TRACE / with 501 HTTP_METHOD_NOT_IMPLEMENTED in the standard error body', async () => {
    const res = await send(service.url, 'TRACE', '/');
    expect(res.status).to.equal(501);
    expect(res.json.error.code).to.equal('HTTP_METHOD_NOT_IMPLEMENTED');
    expect(res.json.error.message).to.contain('TRACE');
    expectNothingLoggedAsError();
  });

  it('answers a method no route takes (PROPFIND, PURGE) with 501', async () => {
    for (const method of ['PROPFIND', 'PURGE']) {
      const res = await send(service.url, method, '/health');
      expect(res.status, method).to.equal(501);
      expect(res.json.error.code, method).to.equal('HTTP_METHOD_NOT_IMPLEMENTED');
    }
    expectNothingLoggedAsError();
  });

  it('answers PATCH and DELETE on a known route with 405 and the Allow header', async () => {
    const patch = await send(service.url, 'PATCH', '/health');
    expect(patch.status).to.equal(405);
    expect(patch.json.error.code).to.equal('HTTP_METHOD_NOT_ALLOWED');
    expect(patch.headers.allow).to.equal('HEAD, GET');
    const del = await send(service.url, 'DELETE', '/webhooks/orders');
    expect(del.status).to.equal(405);
    expect(del.headers.allow).to.equal('POST');
    expect(del.json.error.message).to.contain('DELETE');
    expectNothingLoggedAsError();
  });

  it('answers CONNECT with 501 and closes the connection', async () => {
    const text = await sendRaw(service.url, 'CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n');
    expect(text).to.match(/^HTTP\/1\.1 501 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).to.equal('HTTP_METHOD_NOT_IMPLEMENTED');
    expectNothingLoggedAsError();
  });

  it('answers a method HTTP does not know with 501', async () => {
    const text = await sendRaw(service.url, 'FROB / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(text).to.match(/^HTTP\/1\.1 501 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).to.equal('HTTP_METHOD_NOT_IMPLEMENTED');
    expectNothingLoggedAsError();
  });

  it('still answers unknown paths with 404 and OPTIONS with the Allow header', async () => {
    const missing = await send(service.url, 'PATCH', '/nothing-here');
    expect(missing.status).to.equal(404);
    expect(missing.json.error.code).to.equal('HTTP_NOT_FOUND');
    const options = await send(service.url, 'OPTIONS', '/webhooks/orders');
    expect(options.status).to.equal(200);
    expect(options.headers.allow).to.equal('POST');
    expectNothingLoggedAsError();
  });
});
