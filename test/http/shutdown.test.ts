import { Agent, request } from 'node:http';
import { expect } from 'chai';
import { TestNats } from '../helpers/natsServer.js';
import { inspector, ORDER_BODY, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';
import type { RunningService } from '../../src/service.js';

interface Outcome {
  status?: number;
  code?: string;
  connection?: string;
  error?: string;
}

/** POSTs one order through `agent` and reports the answer, or the socket error. */
function postOrder(base: string, agent: Agent, id: string): Promise<Outcome> {
  const { hostname, port } = new URL(base);
  const body = JSON.stringify(ORDER_BODY);
  return new Promise((resolve) => {
    const req = request(
      { host: hostname, port, method: 'POST', path: '/webhooks/orders', agent, headers: { 'content-type': 'application/json', 'webhook-id': id, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const json = text ? (JSON.parse(text) as { error?: { code: string } }) : {};
          resolve({ status: res.statusCode, code: json.error?.code, connection: res.headers.connection });
        });
        res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

describe('shutdown of the HTTP edge', () => {
  let nats: TestNats;
  let service: RunningService | undefined;

  before(async () => {
    nats = await TestNats.start();
  });
  after(async () => {
    await service?.stop(1000);
    await nats?.dispose();
  });

  it('answers every request on kept-alive connections during the drain with 202 or 503 SERVICE_SHUTTING_DOWN, never a reset', async () => {
    service = await startTestService(nats);
    const { nc, count } = await inspector(nats);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    // A client whose kept-alive connections sit idle when the drain starts.
    const idleAgent = new Agent({ keepAlive: true, maxSockets: 8 });
    const outcomes: Outcome[] = [];
    let stopped = false;
    let sent = 0;
    const deadline = Date.now() + 20_000;
    const sender = async (n: number) => {
      for (let i = 0; !stopped && sent < 5000 && Date.now() < deadline; i++) {
        sent++;
        outcomes.push(await postOrder(service!.url, agent, `drain-${n}-${i}`));
      }
    };
    try {
      const primed = await Promise.all(Array.from({ length: 8 }, (_, n) => postOrder(service!.url, idleAgent, `idle-${n}`)));
      expect(primed.map((o) => o.status)).to.deep.equal(Array(8).fill(202));
      expect(Object.values(idleAgent.freeSockets).flat()).to.have.length(8);
      const senders = Array.from({ length: 16 }, (_, n) => sender(n));
      await waitFor('webhooks to flow on kept-alive connections', () => outcomes.filter((o) => o.status === 202).length >= 100);

      const stopping = service.stop(5000);
      const late = await Promise.all(Array.from({ length: 8 }, (_, n) => postOrder(service!.url, idleAgent, `late-${n}`)));
      await stopping;
      stopped = true;
      await Promise.all(senders);
      service = undefined;

      for (const r of late) expect(r, 'a request on an idle kept-alive connection during the drain').to.deep.equal({ status: 503, code: 'SERVICE_SHUTTING_DOWN', connection: 'close' });
      const accepted = outcomes.filter((o) => o.status === 202);
      const other = outcomes.filter((o) => o.status !== undefined && o.status !== 202 && !(o.status === 503 && o.code === 'SERVICE_SHUTTING_DOWN' && o.connection === 'close'));
      // A new connection after the listener closed is refused before anything is sent; anything else is a lost answer.
      const broken = outcomes.filter((o) => o.error !== undefined && o.error !== 'ECONNREFUSED');
      expect(broken, `${broken.length} requests without an answer`).to.deep.equal([]);
      expect(other).to.deep.equal([]);
      expect(await count()).to.equal(accepted.length + primed.length);
    } finally {
      stopped = true;
      agent.destroy();
      idleAgent.destroy();
      await nc.close();
    }
  });
});
