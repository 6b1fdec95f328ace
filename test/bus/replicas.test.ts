import { expect } from 'chai';
import { loadConfig } from '../../src/serviceConfig.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../../src/nats/localServer.js';
import { startService, type RunningService } from '../../src/service.js';
import { exitOf, startMain } from '../helpers/mainProcess.js';
import { TestNats } from '../helpers/natsServer.js';
import { startTestService } from '../helpers/service.js';

const REFUSAL = /NATS_REPLICAS is 3, which NATS cannot satisfy for stream WEBHOOKS: the server said "replicas > 1 not supported in non-clustered mode"/;

describe('NATS_REPLICAS on a single nats-server', () => {
  let nats: TestNats;
  let service: RunningService | undefined;

  beforeEach(async () => {
    nats = await TestNats.start();
  });

  afterEach(async () => {
    await service?.stop(1000);
    service = undefined;
    await nats.dispose();
  });

  async function failureOf(env: Record<string, string>): Promise<Error> {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env });
    service = await startService(config, createLogger('silent'), nats.url, { edge: true, processing: false });
    return service.link.whenFailed();
  }

  it('gives up at start with what the server said, and /ready says why', async () => {
    const e = await failureOf({ NATS_REPLICAS: '3' });
    expect(e.message).to.match(REFUSAL);
    const ready = await fetch(`${service!.url}/ready`);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { reason: string }).reason).to.match(REFUSAL);
  });

  it('refuses to "update" an existing one-replica stream to 3, which a lone server would accept and ignore', async () => {
    await (await startTestService(nats)).stop(1000);
    const e = await failureOf({ NATS_REPLICAS: '3' });
    expect(e.message).to.equal('NATS_REPLICAS is 3, which NATS cannot satisfy for stream WEBHOOKS: the server is not clustered (its stream info has no cluster)');
  });

  it('stops the process with exit code 78, naming NATS_REPLICAS', async () => {
    const { child, output } = startMain({ NATS_URL: nats.url, NATS_REPLICAS: '3', PORT: String(await freePort()), HOST: '127.0.0.1', INGEST_WORKERS: '1' });
    try {
      expect(await exitOf(child), output()).to.equal(78);
      expect(output()).to.match(new RegExp(`configuration error: ${REFUSAL.source}`));
    } finally {
      child.kill('SIGKILL');
    }
  });
});
