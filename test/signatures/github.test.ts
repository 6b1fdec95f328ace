import { createHmac } from 'node:crypto';
import { sign, verify } from '@octokit/webhooks-methods';
import { expect } from 'chai';
import { githubScheme } from '../../src/signatures/github.js';
import { ORDER_BODY } from '../helpers/service.js';
import { useSignedIngest } from '../helpers/signedIngest.js';
import { ACCEPT, expectSameDecision, refused, type Verdict } from './verdict.js';

// GitHub's documentation example secret: spaces and an apostrophe.
const SECRET = "It's a Secret to Everybody";
const PREVIOUS = 'previous, secret; with a comma';
const OTHER = 'a secret nobody configured';
const BODY = JSON.stringify(ORDER_BODY);

/** What octokit's `verify()` decides with any configured secret. */
async function octokitVerdict(body: string, signature: string | undefined): Promise<Verdict> {
  if (signature === undefined) return refused('MISSING');
  for (const secret of [SECRET, PREVIOUS]) {
    if (await verify(secret, body, signature).catch(() => false)) return ACCEPT;
  }
  return refused('INVALID');
}

const cases: [string, () => Promise<{ body: string; signature?: string }>][] = [
  ['a valid signature', async () => ({ body: BODY, signature: await sign(SECRET, BODY) })],
  ['a signature made with the previous secret', async () => ({ body: BODY, signature: await sign(PREVIOUS, BODY) })],
  ['a signature made with another secret', async () => ({ body: BODY, signature: await sign(OTHER, BODY) })],
  ['upper-case hex', async () => ({ body: BODY, signature: `sha256=${(await sign(SECRET, BODY)).slice(7).toUpperCase()}` })],
  ['an upper-case SHA256= prefix', async () => ({ body: BODY, signature: (await sign(SECRET, BODY)).replace('sha256=', 'SHA256=') })],
  ['junk appended', async () => ({ body: BODY, signature: `${await sign(SECRET, BODY)}00` })],
  ['a truncated signature', async () => ({ body: BODY, signature: (await sign(SECRET, BODY)).slice(0, -2) })],
  ['no sha256= prefix', async () => ({ body: BODY, signature: (await sign(SECRET, BODY)).slice(7) })],
  ['a sha1= signature', async () => ({ body: BODY, signature: `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}` })],
  ['a body changed after signing', async () => ({ body: BODY.replace('99.99', '0.01'), signature: await sign(SECRET, BODY) })],
  ['no signature header', async () => ({ body: BODY })],
];

describe('GitHub signatures (through HTTP, against @octokit/webhooks-methods)', () => {
  const ingest = useSignedIngest({ WEBHOOK_SIGNATURE_ORDERS: 'github', WEBHOOK_SECRET_ORDERS: SECRET, WEBHOOK_SECRET_ORDERS_PREVIOUS: PREVIOUS });

  for (const [name, make] of cases) {
    it(`decides as octokit's verify() on ${name}`, async () => {
      const { body, signature } = await make();
      const headers: Record<string, string> = { 'x-github-delivery': `gh-${name.replace(/\W+/g, '-')}` };
      if (signature !== undefined) headers['x-hub-signature-256'] = signature;
      const outcome = await ingest().post('orders', body, headers);
      expectSameDecision(outcome, await octokitVerdict(body, signature));
      if (outcome.status === 202) expect(outcome.id).to.equal(headers['x-github-delivery']);
    });
  }

  it('accepts a valid signature (the matrix is not refusing everything)', async () => {
    expect(await ingest().post('orders', BODY, { 'x-hub-signature-256': await sign(SECRET, BODY) })).to.include({ status: 202 });
  });

  it("verifies GitHub's documented example (secret with spaces, body 'Hello, World!')", async () => {
    const verifyRequest = githubScheme.verifier(["It's a Secret to Everybody"]);
    const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    await verifyRequest(headers, Buffer.from('Hello, World!'));
  });

  it('ignores a Standard Webhooks signature on a github source', async () => {
    const outcome = await ingest().post('orders', BODY, { 'webhook-id': 'x', 'webhook-timestamp': '1', 'webhook-signature': 'v1,AAAA' });
    expect(outcome).to.include({ status: 401, code: 'INGEST_SIGNATURE_MISSING' });
  });
});
