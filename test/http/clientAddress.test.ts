import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createKoa } from '../../src/http/app.js';
import { clientAddress } from '../../src/http/ingestGuards.js';

describe('client address (TRUST_PROXY)', () => {
  const servers: Server[] = [];
  /** An edge app with `hops` trusted proxies that answers with the client address it sees. */
  async function edge(hops: number): Promise<(xff?: string) => Promise<string>> {
    const app = createKoa(hops);
    app.use((ctx) => (ctx.body = clientAddress(ctx.ip)));
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return async (xff) => (await fetch(url, { headers: xff === undefined ? {} : { 'x-forwarded-for': xff } })).text();
  }

  after(() => servers.forEach((s) => s.close()));

  it('uses the socket address and ignores X-Forwarded-For without trusted proxies', async () => {
    expect(await (await edge(0))('1.2.3.4')).to.equal('127.0.0.1');
  });

  it('folds IPv4-mapped IPv6 addresses into IPv4', () => {
    expect(clientAddress('::ffff:10.0.0.5')).to.equal('10.0.0.5');
    expect(clientAddress('::1')).to.equal('::1');
  });

  it('takes the entry the one trusted proxy appended, never one the client wrote further left', async () => {
    const seen = await edge(1);
    expect(await seen('198.51.100.7')).to.equal('198.51.100.7');
    expect(await seen('6.6.6.6, 198.51.100.7')).to.equal('198.51.100.7');
  });

  it('skips as many entries as there are trusted proxies', async () => {
    expect(await (await edge(2))('198.51.100.7, 10.0.0.1')).to.equal('198.51.100.7');
    expect(await (await edge(3))('198.51.100.7')).to.equal('198.51.100.7');
  });

  it('falls back to the socket address when the header is missing or empty', async () => {
    const seen = await edge(1);
    expect(await seen()).to.equal('127.0.0.1');
    expect(await seen(' , ')).to.equal('127.0.0.1');
  });
});
