import { expect } from 'chai';
import { defaultEdgeProcesses, loadConfig } from '../src/serviceConfig.js';
import { parseDuration } from '../src/config/parse.js';

function errorOf(env: Record<string, string>): Error {
  try {
    loadConfig(env);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.ingest.port).to.equal(3000);
    expect(c.ingest.maxBodyBytes).to.equal(1_048_576);
    expect(c.ingest.duplicateWindowMs).to.equal(600_000);
    expect(c.nats.url).to.equal(undefined);
    expect(c.logLevel).to.equal('info');
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      NATS_URL: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222',
      MAX_BODY_BYTES: '2048',
      DUPLICATE_WINDOW: '15m',
      LOG_LEVEL: 'debug',
      SERVICE_ROLE: 'edge',
      WEBHOOK_SECRET_ORDERS: 'whsec_c2VjcmV0LXNlY3JldA==',
    });
    expect(c.ingest).to.include({ port: 8080, host: '127.0.0.1', maxBodyBytes: 2048, duplicateWindowMs: 900_000 });
    expect(c.nats.url).to.equal('nats://10.0.0.1:4222,nats://10.0.0.2:4222');
    expect(c.ingest.signatures.get('orders')?.scheme.name).to.equal('standard');
    expect(c.logLevel).to.equal('debug');
    expect(c.ingest.role).to.equal('edge');
    expect(loadConfig({ SERVICE_ROLE: 'worker' }).ingest.role).to.equal('worker');
  });

  for (const [name, value] of [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['MAX_BODY_BYTES', '0'],
    ['DUPLICATE_WINDOW', '120'],
    ['DUPLICATE_WINDOW', 'soon'],
    ['LOG_LEVEL', 'loud'],
    ['SERVICE_ROLE', 'workers'],
    ['NATS_URL', 'http://x'],
    ['WEBHOOK_SECRET_ORDRES', 'some-long-secret'],
    ['WEBHOOK_SECRET_ORDERS', 'short'],
  ] as const) {
    it(`refuses ${name}=${value} with a message naming ${name}`, () => {
      const e = errorOf({ [name]: value });
      expect((e as { code?: string }).code).to.equal('CONFIG_INVALID');
      expect(e.message).to.match(new RegExp(`^${name} `));
    });
  }
});

describe('INGEST_WORKERS default', () => {
  it('is one per core, at most 4, leaving a core to processing when the instance also processes', () => {
    expect([1, 2, 4, 8].map((cores) => defaultEdgeProcesses('all', cores))).to.deep.equal([1, 1, 3, 4]);
    expect([1, 2, 4, 8].map((cores) => defaultEdgeProcesses('edge', cores))).to.deep.equal([1, 2, 4, 4]);
  });
});

describe('ACK_WAIT', () => {
  it('is 5 s unless set, read as a duration', () => {
    expect(loadConfig({}).processing.ackWaitMs).to.equal(5000);
    expect(loadConfig({ ACK_WAIT: '2500ms' }).processing.ackWaitMs).to.equal(2500);
  });

  it('refuses a bad value, naming the variable', () => {
    for (const bad of ['500ms', '2h', 'soon', '5']) expect(errorOf({ ACK_WAIT: bad }).message, bad).to.include('ACK_WAIT');
  });
});

describe('parseDuration', () => {
  it('reads Go-style durations', () => {
    expect(parseDuration('2m')).to.equal(120_000);
    expect(parseDuration('1h30m')).to.equal(5_400_000);
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('1.5s')).to.equal(1500);
    expect(parseDuration('12')).to.equal(undefined);
  });
});
