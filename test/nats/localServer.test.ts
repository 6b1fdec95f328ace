import { expect } from 'chai';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { TestNats } from '../helpers/natsServer.js';
import { isListening } from '../../src/nats/localServer.js';

describe('startLocalNats', () => {
  it('starts a JetStream server on a free port and stops it', async () => {
    const nats = await TestNats.start();
    try {
      expect(nats.url).to.not.contain(':4222');
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      expect(info.limits).to.be.an('object');
      expect(nc.info?.max_payload).to.equal(4 * 1024 * 1024);
      await nc.close();
      const port = Number(new URL(nats.url.replace('nats:', 'http:')).port);
      await nats.stop();
      expect(await isListening('127.0.0.1', port)).to.equal(false);
    } finally {
      await nats.dispose();
    }
  });
});
