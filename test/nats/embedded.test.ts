import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { expect } from 'chai';
import { pino } from 'pino';
import { ErrorCodes } from '../../src/errors/codes.js';
import { isServiceError } from '../../src/errors/serviceError.js';
import type { Log } from '../../src/log.js';
import { startEmbeddedNats } from '../../src/nats/embedded.js';
import type { LocalNats } from '../../src/nats/localServer.js';
import { postWebhook, startTestService } from '../helpers/service.js';
import { waitFor } from '../helpers/waitFor.js';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'c0ffee17d25e48b6a0c4e7d1b9f28a6035c1e9d74b2a8f60c3e51d9a7b0f4c28';
const OTHER_KEY = 'deadbeef0123456789abcdef0123456789abcdef0123456789abcdef01234567';
/** Lower case: the orders handler stores emails lower-cased. */
const EMAIL = 'quokka.at-rest.7f3e@example.test';
const ORDER_NUMBER = 'AT-REST-1';

/** A logger that keeps every line, for tests that read what was logged. */
function recordingLog(): { log: Log; lines: { level: number; msg: string; nats?: string }[] } {
  const lines: { level: number; msg: string; nats?: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[number]) });
  return { log, lines };
}

const silent = pino({ level: 'silent' });

function start(dataDir: string, storeKey?: string, log: Log = silent): Promise<LocalNats> {
  // port 0: never 4222, which belongs to the machine's own server.
  return startEmbeddedNats({ projectDir, dataDir, log, storeKey, port: 0 });
}

/** Stores one order through the service (edge and processing), until its status is done. */
async function storeOrder(server: LocalNats): Promise<void> {
  const service = await startTestService(server, {}, { edge: true, processing: true });
  try {
    const body = { embeds: [{ author: { name: 'Quokka' }, description: `Product\nTent\nPrice\n$10.00\nOrder Number\n${ORDER_NUMBER}\nEmail\n${EMAIL}` }] };
    expect((await postWebhook(service.url, 'orders', body, { 'webhook-id': 'at-rest-1' })).status).to.equal(202);
    await waitFor('the order to be done', async () => (await postWebhookStatus(service.url)) === 'done', { timeoutMs: 30_000 });
  } finally {
    await service.stop(1000);
  }
}

async function postWebhookStatus(url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/webhooks/orders/at-rest-1`);
  return res.status === 200 ? ((await res.json()) as { status: string }).status : undefined;
}

/** The stored order's email, read back through the server. */
async function storedEmail(server: LocalNats): Promise<string | undefined> {
  const nc = await connect({ servers: server.url });
  try {
    const entry = await (await new Kvm(nc).open('orders')).get(ORDER_NUMBER);
    return entry ? (entry.json<{ email?: string }>().email ?? undefined) : undefined;
  } finally {
    await nc.close();
  }
}

/** Every file under `dir` whose bytes contain `text`, and how many files there are. */
async function filesContaining(dir: string, text: string): Promise<{ hits: string[]; files: number }> {
  const needle = Buffer.from(text);
  const hits: string[] = [];
  let files = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return { hits, files };
}

describe('startEmbeddedNats (the local store at rest)', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: LocalNats | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'webhook-relay-at-rest-'));
  });
  afterEach(async () => {
    await server?.kill();
    server = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves a stored order\'s email readable in the store files without a key', async () => {
    server = await start(dataDir);
    await storeOrder(server);
    // A clean stop writes every buffered block to its file.
    await server.stop();
    const { hits } = await filesContaining(dataDir, EMAIL);
    expect(hits.some((p) => p.includes('KV_orders')), hits.join('\n')).to.equal(true);
  });

  it('keeps a stored order\'s email, and the key, out of every file with NATS_STORE_KEY, and reads it back with the key', async () => {
    server = await start(dataDir, KEY);
    const cmdline = await readFile(`/proc/${server.pid}/cmdline`, 'utf8');
    expect(cmdline).to.contain('nats-server');
    expect(cmdline).to.not.contain(KEY);
    await storeOrder(server);
    await server.stop();

    const { hits, files } = await filesContaining(dataDir, EMAIL);
    expect(files).to.be.greaterThan(5);
    expect(hits).to.deep.equal([]);
    expect((await filesContaining(dataDir, KEY)).hits).to.deep.equal([]);

    server = await start(dataDir, KEY);
    expect(await storedEmail(server)).to.equal(EMAIL);
  });

  it('refuses to start without a key on a store written with one, and leaves the store intact', async () => {
    server = await start(dataDir, KEY);
    await storeOrder(server);
    await server.stop();
    server = undefined;

    const refused = await start(dataDir).then(
      (s) => {
        server = s;
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isServiceError(refused) && refused.code).to.equal(ErrorCodes.CONFIG_INVALID);
    expect((refused as Error).message).to.match(/^NATS_STORE_KEY is not set, but the streams .*\bWEBHOOKS\b.* were written with a key/);
    expect((refused as Error).message).to.contain('KV_orders');

    server = await start(dataDir, KEY);
    expect(await storedEmail(server)).to.equal(EMAIL);
  });

  it('logs an error naming NATS_STORE_KEY when the key is not the one the store was written with', async () => {
    server = await start(dataDir, KEY);
    await storeOrder(server);
    await server.stop();

    const { log, lines } = recordingLog();
    server = await start(dataDir, OTHER_KEY, log);
    await waitFor('the decryption error in the log', () => lines.some((l) => l.level === 50 && l.msg.includes('NATS_STORE_KEY is not the key it was written with')));
    expect(JSON.stringify(lines)).to.not.contain(OTHER_KEY);
    await server.stop();

    server = await start(dataDir, KEY);
    expect(await storedEmail(server)).to.equal(EMAIL);
  });

  it('encrypts a store written without a key once a key is given', async () => {
    server = await start(dataDir);
    await storeOrder(server);
    await server.stop();
    expect((await filesContaining(dataDir, EMAIL)).hits).to.not.deep.equal([]);

    const { log, lines } = recordingLog();
    server = await start(dataDir, KEY, log);
    expect(lines.some((l) => l.msg === 'local nats-server started' && (l as { storeEncryption?: string }).storeEncryption === 'chachapoly')).to.equal(true);
    expect(await storedEmail(server)).to.equal(EMAIL);
    await server.stop();
    expect((await filesContaining(dataDir, EMAIL)).hits).to.deep.equal([]);
  });
});
