import { expect } from 'chai';
import Router from '@koa/router';
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { ErrorCodes } from '../../src/errors/codes.js';
import { ServiceError } from '../../src/errors/serviceError.js';
import { errorHandler } from '../../src/http/errorHandler.js';
import { refuse } from '../../src/errors/ingestError.js';

/** A logger that keeps its JSON lines for the test to read. */
function capturingLog() {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as { level: number; msg: string });
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

describe('errors over HTTP (errorHandler)', () => {
  let server: Server;
  let base: string;
  let lines: { level: number; msg: string }[];

  before(async () => {
    const captured = capturingLog();
    lines = captured.lines;
    const app = new Koa();
    app.silent = true;
    const router = new Router();
    router.get('/refused', () => {
      throw refuse.schemaInvalid('orders', [{ path: '/embeds', keyword: 'minItems' }]);
    });
    router.get('/limited', () => {
      throw refuse.rateLimited(7);
    });
    router.get('/internal', () => {
      throw new ServiceError(ErrorCodes.OPS_UNAVAILABLE, 'worker 3 did not answer within 2000 ms at 10.0.0.7', { status: 503 });
    });
    router.get('/bug', () => {
      throw new TypeError("Cannot read properties of undefined (reading 'secret')");
    });
    router.post('/only-post', (ctx) => {
      ctx.body = { ok: true };
    });
    app.use(errorHandler(captured.log));
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
    const handle = app.callback();
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    lines.length = 0;
  });

  const get = async (path: string, method = 'GET') => {
    const res = await fetch(`${base}${path}`, { method });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { error: { code: string; message: string; details?: unknown } } };
  };

  it('answers a refusal with its status, code, message and details', async () => {
    const { status, body } = await get('/refused');
    expect(status).to.equal(422);
    expect(body).to.deep.equal({
      error: { code: 'INGEST_SCHEMA_INVALID', message: "body does not match the 'orders' schema", details: [{ path: '/embeds', keyword: 'minItems' }] },
    });
    expect(lines, 'a refusal is not worth a log line').to.deep.equal([]);
  });

  it("sets the error's headers, such as Retry-After", async () => {
    const { status, headers, body } = await get('/limited');
    expect(status).to.equal(429);
    expect(headers.get('retry-after')).to.equal('7');
    expect(body.error).to.deep.include({ code: 'INGEST_RATE_LIMITED', details: { retryAfterS: 7 } });
  });

  it('keeps the message of a hidden 5xx ServiceError out of the answer and logs it', async () => {
    const { status, body } = await get('/internal');
    expect(status).to.equal(503);
    expect(body).to.deep.equal({ error: { code: 'OPS_UNAVAILABLE', message: 'internal error' } });
    expect(lines.map((l) => l.msg)).to.deep.equal(['request failed']);
  });

  it('answers an unexpected error with 500 INTERNAL_ERROR, never its message, and logs it as an error', async () => {
    const { status, body } = await get('/bug');
    expect(status).to.equal(500);
    expect(body).to.deep.equal({ error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
    expect(JSON.stringify(body)).to.not.include('secret');
    expect(lines.map((l) => [l.level, l.msg])).to.deep.equal([[50, 'unexpected error']]);
  });

  it('answers an unknown route with HTTP_NOT_FOUND and a known one with the wrong method with HTTP_METHOD_NOT_ALLOWED', async () => {
    const missing = await get('/nowhere');
    expect(missing.status).to.equal(404);
    expect(missing.body.error).to.deep.equal({ code: 'HTTP_NOT_FOUND', message: 'no route for GET /nowhere' });
    const wrongMethod = await get('/only-post');
    expect(wrongMethod.status).to.equal(405);
    expect(wrongMethod.body.error.code).to.equal('HTTP_METHOD_NOT_ALLOWED');
  });
});
