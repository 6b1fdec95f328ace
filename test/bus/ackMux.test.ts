import { expect } from 'chai';
import sinon from 'sinon';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { AckError, PublishAckMux, type AckFailure } from '../../src/bus/ackMux.js';
import { TestNats } from '../helpers/natsServer.js';

const enc = new TextEncoder();
const data = enc.encode('{}');

async function failureOf(p: Promise<unknown>): Promise<AckFailure> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(AckError);
    return (e as AckError).failure;
  }
  throw new Error('expected the publish to fail');
}

describe('PublishAckMux', () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let mux: PublishAckMux;
  let stream = 0;
  let subject: string;

  before(async () => {
    nats = await TestNats.start();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });

  after(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  beforeEach(async () => {
    stream++;
    subject = `mux${stream}.in`;
    await jsm.streams.add({ name: `MUX${stream}`, subjects: [`mux${stream}.>`] });
    mux = new PublishAckMux(nc, 5000);
  });

  afterEach(() => {
    sinon.restore();
    mux.close();
  });

  it('resolves each publish with its own stream sequence', async () => {
    const acks = await Promise.all([1, 2, 3].map(() => mux.publish(subject, data)));
    expect(acks.map((a) => a.seq).sort()).to.deep.equal([1, 2, 3]);
    expect(acks.every((a) => !a.duplicate)).to.equal(true);
    expect(mux.inFlight).to.equal(0);
  });

  it('reports a resend with the same Nats-Msg-Id as a duplicate of the first', async () => {
    const h = () => {
      const x = headers();
      x.set('Nats-Msg-Id', 'once');
      return x;
    };
    const first = await mux.publish(subject, data, h());
    const again = await mux.publish(subject, data, h());
    expect(again).to.deep.equal({ seq: first.seq, duplicate: true });
  });

  it('rejects with the API error when the stream refuses the message', async () => {
    const h = headers();
    h.set('Nats-Expected-Stream', 'ANOTHER');
    const f = await failureOf(mux.publish(subject, data, h));
    expect(f).to.deep.include({ kind: 'api', code: 400, errCode: 10060 });
  });

  it('rejects as noResponders when no stream takes the subject', async () => {
    expect(await failureOf(mux.publish('nobody.listens', data))).to.deep.equal({ kind: 'noResponders' });
  });

  it('rejects as timeout when no ack comes within the timeout', async () => {
    const silent = nc.subscribe('silent.sink');
    const short = new PublishAckMux(nc, 50, 10);
    try {
      expect(await failureOf(short.publish('silent.sink', data))).to.deep.equal({ kind: 'timeout' });
      expect(short.inFlight).to.equal(0);
    } finally {
      short.close();
      silent.unsubscribe();
    }
  });

  it("confirms an ack only once JetStream has recorded it: the consumer's pending count is 0 when confirm resolves", async () => {
    await mux.publish(subject, data);
    await jsm.consumers.add(`MUX${stream}`, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
    const msg = await (await jetstream(nc).consumers.get(`MUX${stream}`, 'c')).next({ expires: 5000 });
    expect(msg, 'a delivery').to.not.equal(null);
    expect((await jsm.consumers.info(`MUX${stream}`, 'c')).num_ack_pending).to.equal(1);
    await mux.confirm((msg as unknown as { reply: string }).reply, enc.encode('+ACK'));
    expect((await jsm.consumers.info(`MUX${stream}`, 'c')).num_ack_pending).to.equal(0);
    expect(mux.inFlight).to.equal(0);
  });

  it('fails the confirmation of an ack for a consumer that is gone as noResponders, not as a timeout', async () => {
    await mux.publish(subject, data);
    await jsm.consumers.add(`MUX${stream}`, { durable_name: 'gone', ack_policy: AckPolicy.Explicit });
    const msg = await (await jetstream(nc).consumers.get(`MUX${stream}`, 'gone')).next({ expires: 5000 });
    await jsm.consumers.delete(`MUX${stream}`, 'gone');
    expect(await failureOf(mux.confirm((msg as unknown as { reply: string }).reply, enc.encode('+ACK')))).to.deep.equal({ kind: 'noResponders' });
  });

  it('hands the publishes of one turn to the client together, after the turn', async () => {
    const publish = sinon.spy(nc, 'publish');
    const acks = [mux.publish(subject, data), mux.publish(subject, data), mux.publish(subject, data)];
    expect(publish.callCount).to.equal(0);
    await new Promise((r) => setImmediate(r));
    expect(publish.callCount).to.equal(3);
    await Promise.all(acks);
  });

  it('fails waiting publishes as closed on close() and refuses new ones', async () => {
    const silent = nc.subscribe('silent.close');
    try {
      const waiting = mux.publish('silent.close', data);
      await new Promise((r) => setImmediate(r));
      mux.close();
      expect(await failureOf(waiting)).to.deep.equal({ kind: 'closed' });
      expect(await failureOf(mux.publish(subject, data))).to.deep.equal({ kind: 'closed' });
    } finally {
      silent.unsubscribe();
    }
  });
});
