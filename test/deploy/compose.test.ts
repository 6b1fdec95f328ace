import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse } from 'yaml';
import { parseDuration } from '../../src/config/parse.js';
import { loadProcessingConfig } from '../../src/config/processing.js';
import type { RunningService } from '../../src/service.js';
import { sources } from '../../src/sources/registry.js';
import { TestNats } from '../helpers/natsServer.js';
import { startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_FILE = join(repo, 'docker-compose.yml');

/** Container ports of nats-server: clients, routes, monitoring. */
const NATS_PORTS = new Set([4222, 6222, 8222]);
/** The first release whose Raft log follows `sync_interval: always` (before it, stream files only). */
const SYNC_ALWAYS_FROM = [2, 10, 23] as const;
/**
 * What a relay needs after the edge and the handlers have each had
 * SHUTDOWN_TIMEOUT_MS: draining the NATS connection and exiting.
 */
const DRAIN_ALLOWANCE_MS = 15_000;

type PortEntry = string | number | { target: number; published?: string | number; host_ip?: string };

interface ComposeService {
  image?: string;
  build?: { dockerfile_inline?: string };
  command?: string[];
  volumes?: string[];
  secrets?: (string | { source: string; target?: string })[];
  ports?: PortEntry[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  init?: boolean;
  user?: string;
  stop_signal?: string;
  stop_grace_period?: string;
}

interface Compose {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
}

async function loadCompose(): Promise<Compose> {
  // Compose resolves YAML merge keys (`<<: *nats`); so does this parse.
  return parse(await readFile(COMPOSE_FILE, 'utf8'), { merge: true }) as Compose;
}

/** Services built from this checkout: the relays. */
function relays(compose: Compose): [string, ComposeService][] {
  return Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile_inline !== undefined);
}

function natsNodes(compose: Compose): [string, ComposeService][] {
  return Object.entries(compose.services).filter(([, s]) => /^nats:/.test(s.image ?? ''));
}

/** Host address and container port of each published port (short or long syntax). */
function published(service: ComposeService): { hostIp: string | undefined; containerPort: number }[] {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry === 'object') return { hostIp: entry.host_ip, containerPort: entry.target };
    const parts = String(entry).replace(/\/(tcp|udp)$/, '').split(':');
    const containerPort = Number(parts.pop());
    // HOST_IP:HOST_PORT:CONTAINER_PORT; with fewer parts the port is bound on every interface.
    return { hostIp: parts.length === 2 ? parts[0] : undefined, containerPort };
  });
}

/** The image references a service runs: its `image`, or each `FROM` of its inline Dockerfile. */
function imagesOf(service: ComposeService): string[] {
  const inline = service.build?.dockerfile_inline;
  if (inline !== undefined) return [...inline.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
  return service.image === undefined ? [] : [service.image];
}

/** The `{ ... }` block after `name {` in a nats-server configuration, braces matched. */
function block(conf: string, name: string): string {
  const start = conf.search(new RegExp(`^[ \\t]*${name}\\s*\\{`, 'm'));
  expect(start, `a '${name} {' block`).to.be.at.least(0);
  let depth = 0;
  for (let i = conf.indexOf('{', start); i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    if (conf[i] === '}' && --depth === 0) return conf.slice(start, i + 1);
  }
  throw new Error(`unclosed '${name} {' block`);
}

/** The host file mounted at `containerPath`. */
function hostFileOf(service: ComposeService, containerPath: string): string {
  const volume = (service.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === containerPath);
  expect(volume, `a volume mounted at ${containerPath}`).to.not.equal(undefined);
  return join(repo, volume![0]!);
}

function configPathOf(service: ComposeService): string {
  const command = service.command ?? [];
  const i = command.findIndex((a) => a === '-c' || a === '--config');
  expect(i, 'a -c <file> in the command').to.be.at.least(0);
  return command[i + 1]!;
}

function secretNames(service: ComposeService): string[] {
  return (service.secrets ?? []).map((s) => (typeof s === 'string' ? s : s.source));
}

/** Runs the healthcheck's `CMD` form as Docker would: no shell, the container's environment. */
async function runHealthcheck(test: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  expect(test[0]).to.equal('CMD');
  const child = spawn(test[1]!, test.slice(2), { env, stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

describe('docker-compose.yml', () => {
  let compose: Compose;
  before(async () => {
    compose = await loadCompose();
  });

  it('has three NATS nodes and two relays', () => {
    expect(natsNodes(compose).map(([name]) => name)).to.deep.equal(['nats-1', 'nats-2', 'nats-3']);
    expect(relays(compose).map(([name]) => name)).to.deep.equal(['webhook-relay-1', 'webhook-relay-2']);
  });

  it('publishes no NATS port, except on 127.0.0.1', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const nats = natsNodes(compose).some(([n]) => n === name);
      for (const port of published(service)) {
        if (!nats && !NATS_PORTS.has(port.containerPort)) continue;
        expect(port.hostIp, `${name} publishes ${port.containerPort}`).to.equal('127.0.0.1');
      }
    }
  });

  it('gives each relay a stop_grace_period longer than its drain can take, after SIGTERM', () => {
    for (const [name, service] of relays(compose)) {
      const { shutdownTimeoutMs } = loadProcessingConfig({ SHUTDOWN_TIMEOUT_MS: service.environment?.SHUTDOWN_TIMEOUT_MS }, sources);
      const graceMs = parseDuration(service.stop_grace_period ?? '10s');
      expect(service.stop_signal ?? 'SIGTERM', name).to.equal('SIGTERM');
      expect(graceMs, `${name} stop_grace_period`).to.be.greaterThan(2 * shutdownTimeoutMs + DRAIN_ALLOWANCE_MS);
    }
  });

  it('checks each relay with a node one-liner on /ready, which Compose does not interpolate', () => {
    for (const [name, service] of relays(compose)) {
      const test = service.healthcheck?.test ?? [];
      expect(test.slice(0, 3), name).to.deep.equal(['CMD', 'node', '-e']);
      expect(test[3], name).to.contain('/ready');
      // Compose would replace $VAR (or drop a lone $) before Docker runs it.
      expect(test[3], name).to.not.contain('$');
    }
  });

  it('runs each relay under an init process, as a user other than root', () => {
    for (const [name, service] of relays(compose)) {
      expect(service.init, name).to.equal(true);
      const users = [...service.build!.dockerfile_inline!.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]!);
      const user = service.user ?? users.at(-1);
      expect(user, `${name}: the image's last USER`).to.be.a('string');
      expect(user!.split(':')[0], name).to.not.be.oneOf(['root', '0']);
    }
  });

  it('starts node with the same flags as npm start and npm run serve', async () => {
    const argv = (line: string) => line.match(/node (--\S+(?: --\S+)*) dist\/src\/main\.js/)?.[1];
    const start = argv(await readFile(join(repo, 'scripts/start.sh'), 'utf8'));
    const serve = argv(JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')).scripts.serve);
    expect(start).to.include('--max-semi-space-size=');
    expect(serve).to.equal(start);
    for (const [name, service] of relays(compose)) {
      const cmd = service.build!.dockerfile_inline!.match(/^\s*CMD (\[.*\])$/m)?.[1];
      expect(JSON.parse(cmd!), name).to.deep.equal(['node', ...start!.split(' '), 'dist/src/main.js']);
    }
  });

  it('pins every image to a full version', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const image of imagesOf(service)) {
        if (service.build !== undefined && image === service.image) continue;
        expect(image, name).to.match(/(:v?\d+\.\d+\.\d+(-[\w.-]+)?|@sha256:[0-9a-f]{64})$/);
      }
    }
  });

  it(`runs nats-server ${SYNC_ALWAYS_FROM.join('.')} or later with sync_interval: always and an encrypted store in the configuration it mounts`, async () => {
    for (const [name, service] of natsNodes(compose)) {
      const version = /^nats:(\d+)\.(\d+)\.(\d+)/.exec(service.image!)?.slice(1).map(Number) ?? [];
      expect(version, `${name} ${service.image}`).to.have.length(3);
      const newer = version.findIndex((v, i) => v !== SYNC_ALWAYS_FROM[i]);
      expect(newer === -1 || version[newer]! > SYNC_ALWAYS_FROM[newer]!, `${name} ${service.image}`).to.equal(true);

      const containerConf = configPathOf(service);
      const jetstream = block(await readFile(hostFileOf(service, containerConf), 'utf8'), 'jetstream');
      expect(jetstream, name).to.match(/^\s*sync_interval:\s*always\s*$/m);
      expect(jetstream, name).to.match(/^\s*cipher:\s*chachapoly\s*$/m);
      // The key comes from a secret: nats-server joins the include path to the configuration's folder.
      const include = /^\s*include\s+"([^"]+)"/m.exec(jetstream)?.[1];
      expect(include, `${name}: the key's include`).to.be.a('string');
      const secret = posix.join(posix.dirname(containerConf), include!).replace(/^\/run\/secrets\//, '');
      expect(secretNames(service), name).to.include(secret);
      expect(compose.secrets?.[secret]?.file, `secret ${secret}`).to.be.a('string');
    }
  });

  it('authenticates every client and every route: the nodes take the users of accounts.conf, routes carry a password, relays log in as relay from a secret file, nats-box as the read-only operator', async () => {
    for (const [name, service] of natsNodes(compose)) {
      const conf = await readFile(hostFileOf(service, configPathOf(service)), 'utf8');
      expect(conf, name).to.match(/^include "accounts\.conf"$/m);
      expect(hostFileOf(service, '/etc/nats/accounts.conf'), name).to.equal(join(repo, 'deploy/nats/accounts.conf'));
      const cluster = block(conf, 'cluster');
      expect(block(cluster, 'authorization'), name).to.match(/password:\s*\$NATS_ROUTE_PASSWORD/);
      for (const n of [1, 2, 3]) expect(service.environment?.[`NATS_ROUTE_${n}`], name).to.equal(`nats://route:\${NATS_ROUTE_PASSWORD}@nats-${n}:6222`);
      for (const v of ['RELAY_PASSWORD', 'EDGE_PASSWORD', 'WORKER_PASSWORD', 'OPERATOR_PASSWORD', 'NATS_ROUTE_PASSWORD']) {
        // Required: Compose refuses to start without it instead of running an open server.
        expect(service.environment?.[v], `${name} ${v}`).to.match(new RegExp(`^\\$\\{${v}:\\?`));
      }
    }
    for (const [name, service] of relays(compose)) {
      expect(service.environment, name).to.include({ NATS_USER: 'relay', NATS_PASSWORD_FILE: '/run/secrets/nats_relay_password', NATS_INBOX_PREFIX: '_INBOX_relay' });
      expect(service.environment, name).to.not.have.property('NATS_PASSWORD');
      expect(secretNames(service), name).to.include('nats_relay_password');
    }
    expect(compose.secrets?.nats_relay_password).to.deep.equal({ environment: 'RELAY_PASSWORD' });
    expect(compose.services['nats-box']?.environment).to.include({ NATS_USER: 'operator' });
  });

  it('keeps the key file the secret reads out of git', async () => {
    for (const { file } of Object.values(compose.secrets ?? {})) {
      if (file === undefined) continue;
      const { stdout } = await run('git', ['check-ignore', file], { cwd: repo });
      expect(stdout.trim()).to.equal(file);
    }
  });

  it('mounts a NATS configuration that nats-server accepts, with the key included from the secret', async () => {
    const [, service] = natsNodes(compose)[0]!;
    const containerConf = configPathOf(service);
    const text = await readFile(hostFileOf(service, containerConf), 'utf8');
    // Laid out as in the container, every file it mounts under /etc/nats. nats-server here is 2.9, which
    // knows every option but sync_interval (2.10 on): that line alone is left out.
    const root = await mkdtemp(join(tmpdir(), 'webhook-relay-compose-'));
    try {
      const conf = join(root, containerConf);
      await mkdir(dirname(conf), { recursive: true });
      await writeFile(conf, text.replace(/^\s*sync_interval:.*$/m, ''));
      for (const [host, target] of (service.volumes ?? []).map((v) => v.split(':'))) {
        if (target!.startsWith('/etc/nats/') && target !== containerConf) await writeFile(join(root, target!), await readFile(join(repo, host!), 'utf8'));
      }
      await mkdir(join(root, 'run/secrets'), { recursive: true });
      // The environment Compose gives the node, its ${...} filled in as from an .env file.
      const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{([A-Z_]+)[^}]*\}/g, (_m, name: string) => `test-${name.toLowerCase()}`)]));
      const check = () =>
        run('nats-server', ['-c', conf, '-t'], { env: { ...process.env, ...env } }).then(
          ({ stderr }) => stderr,
          (e: { stderr: string }) => `failed: ${e.stderr}`,
        );
      expect(await check()).to.match(/error parsing include file/);
      await writeFile(join(root, 'run/secrets', secretNames(service)[0]!), `key: "${'ab'.repeat(32)}"\n`, { mode: 0o600 });
      expect(await check()).to.match(/configuration file .* is valid/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the relay healthcheck against a running service', function () {
  this.timeout(60_000);
  let nats: TestNats;
  let service: RunningService;
  let test: string[];

  before(async () => {
    test = relays(await loadCompose())[0]![1].healthcheck!.test!;
    nats = await TestNats.start();
    service = await startTestService(nats);
  });
  after(async () => {
    await service?.stop(1000);
    await nats?.dispose();
  });

  it('succeeds while /ready answers 200 and fails while it answers 503', async () => {
    const env = { ...process.env, PORT: new URL(service.url).port };
    expect((await fetch(`${service.url}/ready`)).status).to.equal(200);
    expect(await runHealthcheck(test, env)).to.equal(0);

    await nats.stop();
    await waitFor('/ready to answer 503', async () => (await fetch(`${service.url}/ready`)).status === 503, { timeoutMs: 30_000 });
    expect(await runHealthcheck(test, env)).to.equal(1);

    await nats.restart();
    await waitFor('/ready to answer 200 again', async () => (await fetch(`${service.url}/ready`)).status === 200, { timeoutMs: 30_000 });
    expect(await runHealthcheck(test, env)).to.equal(0);
  });
});
