import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { expect } from 'chai';
import { BlackholeProxy } from '../../bench/chaos/blackholeProxy.js';
import { waitFor } from '../helpers/waitFor.js';

/** One end of a TCP connection and everything it has received. */
interface End {
  socket: Socket;
  received: () => string;
  closed: () => boolean;
}

function end(socket: Socket): End {
  let text = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, received: () => text, closed: () => closed };
}

/** How long "nothing arrives" is watched for: loopback delivers in well under a millisecond. */
const QUIET_MS = 300;

describe('BlackholeProxy', () => {
  let target: Server;
  let peers: End[];
  let proxy: BlackholeProxy;
  const clients: End[] = [];

  beforeEach(async () => {
    peers = [];
    target = createServer((s) => peers.push(end(s)));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    proxy = await BlackholeProxy.start({ host: '127.0.0.1', port: (target.address() as AddressInfo).port });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await proxy.close();
    for (const p of peers) p.socket.destroy();
    await new Promise<void>((r) => target.close(() => r()));
  });

  async function open(): Promise<End> {
    const c = end(connect({ host: '127.0.0.1', port: proxy.port }));
    clients.push(c);
    await new Promise<void>((r, j) => c.socket.once('connect', r).once('error', j));
    return c;
  }

  it('forwards bytes both ways', async () => {
    const client = await open();
    client.socket.write('PING\r\n');
    await waitFor('the target received the bytes', () => peers[0]?.received() === 'PING\r\n');
    peers[0]!.socket.write('PONG\r\n');
    await waitFor('the client received the answer', () => client.received() === 'PONG\r\n');
  });

  it('holds bytes in both directions while black-holed, closing nothing, and delivers them in order once restored', async () => {
    const client = await open();
    client.socket.write('one ');
    await waitFor('the target connected and received the first bytes', () => peers[0]?.received() === 'one ');
    const peer = peers[0]!;

    proxy.blackhole();
    client.socket.write('two ');
    peer.socket.write('back ');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect({ atTarget: peer.received(), atClient: client.received() }).to.deep.equal({ atTarget: 'one ', atClient: '' });
    expect({ clientClosed: client.closed(), peerClosed: peer.closed() }).to.deep.equal({ clientClosed: false, peerClosed: false });

    client.socket.write('three');
    proxy.restore();
    await waitFor('the held bytes reached the target', () => peer.received() === 'one two three');
    await waitFor('the held bytes reached the client', () => client.received() === 'back ');
  });

  it('holds a connection opened during the black hole until forwarding is restored', async () => {
    proxy.blackhole();
    const client = await open();
    client.socket.write('hello');
    await new Promise((r) => setTimeout(r, QUIET_MS));
    expect(peers.map((p) => p.received()).join('')).to.equal('');
    proxy.restore();
    await waitFor('the held bytes reached the target', () => peers[0]?.received() === 'hello');
  });

  it('refuses a target that is not on loopback', async () => {
    let error: unknown;
    await BlackholeProxy.start({ host: '192.0.2.1', port: 4222 }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(RangeError).with.property('message').that.includes('target.host');
  });
});
