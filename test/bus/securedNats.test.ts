import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createUser } from '@nats-io/nkeys';
import { expect } from 'chai';
import { pino } from 'pino';
import { loadConfig } from '../../src/serviceConfig.js';
import type { Env } from '../../src/config/parse.js';
import { freePort } from '../../src/nats/localServer.js';
import { startService, type RunningService } from '../../src/service.js';
import { exitOf, startMain } from '../helpers/mainProcess.js';
import { makeJwtAuth } from '../helpers/natsJwt.js';
import { TestNats } from '../helpers/natsServer.js';
import { ORDER_BODY, postWebhook } from '../helpers/service.js';
import { testEnv } from '../helpers/testEnv.js';
import { makeTlsFiles } from '../helpers/tlsFiles.js';
import { waitFor } from '../helpers/waitFor.js';

const ADMIN = 'admin-token-for-tests-0123456789';

/** One way a NATS server can be secured, and how the service is told to meet it. */
interface Mode {
  name: string;
  /** Server configuration, URL scheme, and the environment that gets in and one that must be refused. */
  setup(dir: string): Promise<{
    config: string;
    scheme?: 'tls';
    env(url: string): Env;
    wrongEnv(url: string): Env;
    /** What `/ready` says while refused. */
    refusal: RegExp;
    /** Every secret of both environments: none may be logged or shown. */
    secrets: string[];
  }>;
}

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const file = async (dir: string, name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, `${text}\n`, { mode: 0o600 });
  return path;
};

const modes: Mode[] = [
  {
    name: 'user and password (NATS_USER, NATS_PASSWORD_FILE)',
    async setup(dir) {
      const password = secret('pw');
      const wrong = secret('wrong-pw');
      const passwordFile = await file(dir, 'password', password);
      return {
        config: `authorization { user: relay, password: "${password}" }`,
        env: (url) => ({ NATS_URL: url, NATS_USER: 'relay', NATS_PASSWORD_FILE: passwordFile }),
        wrongEnv: (url) => ({ NATS_URL: url, NATS_USER: 'relay', NATS_PASSWORD: wrong }),
        refusal: /^NATS refused the login \(NATS_USER, NATS_PASSWORD\): Authorization Violation$/,
        secrets: [password, wrong],
      };
    },
  },
  {
    name: 'user and password inside NATS_URL',
    async setup() {
      const password = secret('pw');
      const wrong = secret('wrong-pw');
      const withUserinfo = (url: string, p: string) => url.replace('nats://', `nats://relay:${encodeURIComponent(p)}@`);
      return {
        config: `authorization { user: relay, password: "${password}" }`,
        env: (url) => ({ NATS_URL: withUserinfo(url, password) }),
        wrongEnv: (url) => ({ NATS_URL: withUserinfo(url, wrong) }),
        refusal: /^NATS refused the login \(NATS_URL\): Authorization Violation$/,
        secrets: [password, wrong],
      };
    },
  },
  {
    name: 'token (NATS_TOKEN_FILE)',
    async setup(dir) {
      const token = secret('token');
      const wrong = secret('wrong-token');
      await file(dir, 'token', token);
      return {
        config: `authorization { token: "${token}" }`,
        env: (url) => ({ NATS_URL: url, NATS_TOKEN_FILE: join(dir, 'token') }),
        wrongEnv: (url) => ({ NATS_URL: url, NATS_TOKEN: wrong }),
        refusal: /^NATS refused the login \(NATS_TOKEN\): Authorization Violation$/,
        secrets: [token, wrong],
      };
    },
  },
  {
    name: 'nkey (NATS_NKEY_SEED_FILE)',
    async setup(dir) {
      const user = createUser();
      const stranger = createUser();
      const seed = new TextDecoder().decode(user.getSeed());
      const strangerSeed = new TextDecoder().decode(stranger.getSeed());
      const good = await file(dir, 'relay.nk', seed);
      const bad = await file(dir, 'stranger.nk', strangerSeed);
      return {
        config: `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`,
        env: (url) => ({ NATS_URL: url, NATS_NKEY_SEED_FILE: good }),
        wrongEnv: (url) => ({ NATS_URL: url, NATS_NKEY_SEED_FILE: bad }),
        refusal: /^NATS refused the login \(NATS_NKEY_SEED_FILE\): Authorization Violation$/,
        secrets: [seed, strangerSeed],
      };
    },
  },
  {
    name: 'TLS with a private CA (tls://, NATS_TLS_CA)',
    async setup(dir) {
      const tls = await makeTlsFiles(dir);
      return {
        config: `tls { cert_file: "${tls.serverCert}", key_file: "${tls.serverKey}" }`,
        scheme: 'tls',
        env: (url) => ({ NATS_URL: url, NATS_TLS_CA: tls.caCert }),
        // A client that trusts another CA must not talk to this server.
        wrongEnv: (url) => ({ NATS_URL: url, NATS_TLS_CA: tls.otherCaCert }),
        refusal: /^cannot connect to NATS: .*(self[- ]signed|unable to (get|verify)|certificate)/i,
        secrets: [await readFile(tls.serverKey, 'utf8').then((k) => k.split('\n')[1]!)],
      };
    },
  },
  {
    name: 'mutual TLS (NATS_TLS_CERT, NATS_TLS_KEY)',
    async setup(dir) {
      const tls = await makeTlsFiles(dir);
      const clientKeyLine = (await readFile(tls.clientKey, 'utf8')).split('\n')[1]!;
      return {
        config: `tls { cert_file: "${tls.serverCert}", key_file: "${tls.serverKey}", ca_file: "${tls.caCert}", verify: true }`,
        scheme: 'tls',
        env: (url) => ({ NATS_URL: url, NATS_TLS_CA: tls.caCert, NATS_TLS_CERT: tls.clientCert, NATS_TLS_KEY: tls.clientKey }),
        // Without a client certificate the server ends the handshake.
        wrongEnv: (url) => ({ NATS_URL: url, NATS_TLS_CA: tls.caCert }),
        // The server ends the handshake without a word; the client gives up after its 5 s handshake timeout.
        refusal: /^cannot connect to NATS: /,
        secrets: [clientKeyLine],
      };
    },
  },
  {
    name: 'decentralised JWT (NATS_CREDS) with an operator, an account and a user',
    async setup(dir) {
      const jwt = await makeJwtAuth();
      const good = await file(dir, 'relay.creds', jwt.creds);
      const bad = await file(dir, 'stranger.creds', jwt.strangerCreds);
      const seedOf = (creds: string) => creds.match(/SU[A-Z0-9]{50,}/)![0];
      return {
        config: jwt.serverConfig,
        env: (url) => ({ NATS_URL: url, NATS_CREDS: good }),
        wrongEnv: (url) => ({ NATS_URL: url, NATS_CREDS: bad }),
        refusal: /^NATS refused the login \(NATS_CREDS\): Authorization Violation$/,
        secrets: [seedOf(jwt.creds), seedOf(jwt.strangerCreds)],
      };
    },
  },
];

/** A service whose every log line is kept, at debug level, for what it must never say. */
async function startLoggedService(env: Env): Promise<{ service: RunningService; lines: () => string[] }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig(testEnv({ ADMIN_TOKEN: ADMIN, ...env }));
  const service = await startService(config, pino({ level: 'debug' }, sink), config.nats.url!, { edge: true, processing: true });
  return { service, lines: () => lines };
}

/** Every answer an operator or client can read, as text. */
async function publicText(service: RunningService): Promise<string> {
  const paths = ['/ready', '/stats', '/actors', '/metrics'];
  const texts = await Promise.all(paths.map(async (p) => (await fetch(`${service.url}${p}`)).text()));
  return texts.join('\n');
}

describe('connecting to a secured NATS', function () {
  this.timeout(90_000);

  for (const mode of modes) {
    describe(mode.name, () => {
      let nats: TestNats;
      let dir: string;
      let m: Awaited<ReturnType<Mode['setup']>>;

      before(async () => {
        dir = await mkdtemp(join(tmpdir(), 'webhook-relay-secured-'));
        m = await mode.setup(dir);
        nats = await TestNats.start({ config: m.config, scheme: m.scheme });
      });

      after(async () => {
        await nats?.dispose();
        await rm(dir, { recursive: true, force: true });
      });

      it('becomes ready and processes an order end to end, with no secret in its logs or answers', async () => {
        const { service, lines } = await startLoggedService(m.env(nats.url));
        try {
          await waitFor('ready', async () => (await fetch(`${service.url}/ready`)).status === 200, { timeoutMs: 30_000 });
          const id = `secured-${randomBytes(4).toString('hex')}`;
          expect((await postWebhook(service.url, 'orders', ORDER_BODY, { 'webhook-id': id })).status).to.equal(202);
          await waitFor('the order done', async () => {
            const r = await fetch(`${service.url}/webhooks/orders/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
            return ((await r.json()) as { status?: string }).status === 'done';
          }, { timeoutMs: 30_000 });
          const seen = `${lines().join('\n')}\n${await publicText(service)}`;
          for (const s of m.secrets) expect(seen).not.to.include(s);
        } finally {
          await service.stop(1000);
        }
      });

      it('stays not ready with the reason while refused, logs the reason once, and shows no secret', async () => {
        const { service, lines } = await startLoggedService(m.wrongEnv(nats.url));
        try {
          const ready = await waitFor('the refusal on /ready', async () => {
            const r = await fetch(`${service.url}/ready`);
            const body = (await r.json()) as { reason?: string };
            return r.status === 503 && m.refusal.test(body.reason ?? '') ? body : undefined;
          }, { timeoutMs: 30_000 });
          // Retries go on (the operator may fix the server); the state line is not repeated.
          await waitFor('a third refused attempt', () => lines().filter((l) => l.includes('nats connect attempt failed')).length >= 3, { timeoutMs: 60_000 });
          const stateLines = lines().filter((l) => l.includes('"msg":"nats link state"') && l.includes(JSON.stringify(ready.reason).slice(1, -1)));
          expect(stateLines).to.have.length(1);
          expect(JSON.parse(stateLines[0]!).level).to.equal(50);
          expect((await postWebhook(service.url, 'orders', ORDER_BODY)).status).to.equal(503);
          const seen = `${lines().join('\n')}\n${await publicText(service)}`;
          for (const s of m.secrets) expect(seen).not.to.include(s);
        } finally {
          await service.stop(1000);
        }
      });
    });
  }

  it('connects edge processes with the same credentials as their primary', async () => {
    const password = secret('pw');
    const nats = await TestNats.start({ config: `authorization { user: relay, password: "${password}" }` });
    const port = await freePort();
    const passwordFile = await file(nats.dir, 'password', password);
    const { child, output } = startMain({ NATS_URL: nats.url, NATS_USER: 'relay', NATS_PASSWORD_FILE: passwordFile, PORT: String(port), INGEST_WORKERS: '2' });
    try {
      const base = `http://127.0.0.1:${port}`;
      // Two workers answer on the port; each must be ready, so ask a few times over new connections.
      for (let i = 0; i < 6; i++) {
        await waitFor('every worker ready', async () => (await fetch(`${base}/ready`, { headers: { connection: 'close' } })).status === 200, { timeoutMs: 60_000 });
      }
      expect((await postWebhook(base, 'orders', ORDER_BODY, { 'webhook-id': 'worker-secured' })).status, output()).to.equal(202);
      expect(output()).not.to.include(password);
      child.kill('SIGTERM');
      expect(await exitOf(child), output()).to.equal(0);
    } finally {
      child.kill('SIGKILL');
      await nats.dispose();
    }
  });
});
