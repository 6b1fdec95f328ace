import { expect } from 'chai';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { NativeHmacWebhook } from '../../src/signatures/standard.js';
import { ORDER_BODY } from '../helpers/service.js';
import { useSignedIngest } from '../helpers/signedIngest.js';
import { ACCEPT, expectSameDecision, refused, type Verdict } from './verdict.js';

const key = (text: string) => `whsec_${Buffer.from(text).toString('base64')}`;
const SECRET = key('a-32-byte-long-test-signing-key!');
const PREVIOUS = key('an-older-signing-key-of-32-bytes');
const OTHER = key('a-key-nobody-configured-32-bytes');
const BODY = JSON.stringify(ORDER_BODY);

/** What the library's `verify()` does with a request: accepted, or why not. */
function libraryVerdict(verify: () => unknown): Verdict {
  try {
    verify();
    return ACCEPT;
  } catch (e) {
    const message = (e as Error).message;
    if (/Missing required headers/.test(message)) return refused('MISSING');
    if (/timestamp too (old|new)/.test(message)) return refused('EXPIRED');
    return refused('INVALID');
  }
}

/** A signer as a sender uses it, with the headers it sends and the library that verifies them. */
interface Signer {
  name: string;
  prefix: 'webhook' | 'svix';
  sign(secret: string, id: string, at: Date, body: string): string;
  verify(secret: string, body: string, headers: Record<string, string>): unknown;
}

const signers: Signer[] = [
  {
    name: 'standardwebhooks',
    prefix: 'webhook',
    sign: (secret, id, at, body) => new StandardWebhook(secret).sign(id, at, body),
    verify: (secret, body, headers) => new StandardWebhook(secret).verify(body, headers),
  },
  {
    name: 'svix',
    prefix: 'svix',
    sign: (secret, id, at, body) => new SvixWebhook(secret).sign(id, at, body),
    verify: (secret, body, headers) => new SvixWebhook(secret).verify(body, headers),
  },
];

/** One signed request, before a mutation. */
interface Signed {
  id: string;
  ts: string;
  signature: string;
  body: string;
}

const minutes = (n: number) => new Date(Date.now() + n * 60_000);
let n = 0;

function signed(signer: Signer, { secret = SECRET, at = new Date(), body = BODY } = {}): Signed {
  const id = `msg_${signer.name}_${++n}`;
  return { id, ts: String(Math.floor(at.getTime() / 1000)), signature: signer.sign(secret, id, at, body), body };
}

/** Each case: a request a sender (or an attacker) could send, as headers without prefix and a body. */
const cases: [string, (s: Signer) => Signed & { extra?: Record<string, string>; drop?: string }][] = [
  ['a valid signature', (s) => signed(s)],
  ['a signature with junk appended', (s) => {
    const r = signed(s);
    return { ...r, signature: `${r.signature}!!` };
  }],
  ['a signature re-encoded as base64url', (s) => {
    const r = signed(s);
    return { ...r, signature: r.signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') };
  }],
  ['a signature without its base64 padding', (s) => {
    const r = signed(s);
    return { ...r, signature: r.signature.replace(/=+$/, '') };
  }],
  ['a signature made with another secret', (s) => signed(s, { secret: OTHER })],
  ['a signature made with the previous secret', (s) => signed(s, { secret: PREVIOUS })],
  ['a timestamp six minutes old', (s) => signed(s, { at: minutes(-6) })],
  ['a timestamp six minutes ahead', (s) => signed(s, { at: minutes(6) })],
  ['a timestamp four minutes old', (s) => signed(s, { at: minutes(-4) })],
  ['a timestamp four minutes ahead', (s) => signed(s, { at: minutes(4) })],
  ['a stale timestamp with a wrong signature', (s) => signed(s, { at: minutes(-10), secret: OTHER })],
  ['a timestamp with trailing junk', (s) => {
    const r = signed(s);
    return { ...r, ts: `${r.ts}x` };
  }],
  ['a timestamp that is not a number', (s) => ({ ...signed(s), ts: 'soon' })],
  ['several signatures with one valid', (s) => {
    const r = signed(s);
    return { ...r, signature: `${signed(s, { secret: OTHER }).signature} v2,AAAA ${r.signature}` };
  }],
  ['several signatures with none valid', (s) => {
    const r = signed(s);
    return { ...r, signature: `${signed(s, { secret: OTHER }).signature} v2,${r.signature.slice(3)}` };
  }],
  ['a valid signature under another version', (s) => {
    const r = signed(s);
    return { ...r, signature: r.signature.replace(/^v1,/, 'v1a,') };
  }],
  ['a body changed after signing', (s) => ({ ...signed(s), body: BODY.replace('99.99', '0.01') })],
  ['an id changed after signing', (s) => ({ ...signed(s), id: 'msg_other' })],
  ['no id header', (s) => ({ ...signed(s), drop: 'id' })],
  ['no timestamp header', (s) => ({ ...signed(s), drop: 'timestamp' })],
  ['no signature header', (s) => ({ ...signed(s), drop: 'signature' })],
  ['a valid request beside junk in the other header spelling', (s) => {
    const other = s.prefix === 'svix' ? 'webhook' : 'svix';
    return { ...signed(s), extra: { [`${other}-signature`]: 'v1,AAAA' } };
  }],
];

describe('Standard Webhooks signatures (through HTTP, against the libraries)', () => {
  const ingest = useSignedIngest({ WEBHOOK_SECRET_ORDERS: SECRET, WEBHOOK_SECRET_ORDERS_PREVIOUS: PREVIOUS });

  for (const signer of signers) {
    describe(`signed with ${signer.name} (${signer.prefix}-* headers)`, () => {
      for (const [name, make] of cases) {
        it(`decides as ${signer.name}'s verify() on ${name}`, async () => {
          const r = make(signer);
          const headers: Record<string, string> = {
            [`${signer.prefix}-id`]: r.id,
            [`${signer.prefix}-timestamp`]: r.ts,
            [`${signer.prefix}-signature`]: r.signature,
            ...r.extra,
          };
          if (r.drop) delete headers[`${signer.prefix}-${r.drop}`];
          // With both spellings present, Svix's verify() (which reads svix-* first) is the reference; standardwebhooks reads only webhook-*.
          const verifier = Object.keys(headers).some((h) => h.startsWith('svix-')) ? signers[1]! : signer;
          const verdicts = [SECRET, PREVIOUS].map((secret) => libraryVerdict(() => verifier.verify(secret, r.body, headers)));
          const verdict = verdicts.find((v) => v.accept) ?? verdicts[0]!;

          const outcome = await ingest().post('orders', r.body, headers);
          expectSameDecision(outcome, verdict);
          if (verdict.accept) expect(outcome.id, 'the signed id is the delivery id').to.equal(r.id);
        });
      }
    });
  }

  it('accepts a valid signature (the matrix is not refusing everything)', async () => {
    const r = signed(signers[0]!);
    const outcome = await ingest().post('orders', r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.ts, 'webhook-signature': r.signature });
    expect(outcome.status).to.equal(202);
  });
});

describe('NativeHmacWebhook', () => {
  const payloads: [string, string | Buffer][] = [
    ['JSON text', BODY],
    ['non-ASCII text', '{"name":"Zoë ✓ 😀"}'],
    ['UTF-8 bytes', Buffer.from('{"name":"Zoë ✓ 😀"}')],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ];
  const secrets = [SECRET, SECRET.replace(/=+$/, ''), SECRET.slice('whsec_'.length), key('k')];

  for (const [name, payload] of payloads) {
    it(`signs ${name} exactly as the library does`, () => {
      const at = new Date(1_800_000_000_123);
      for (const secret of secrets) {
        expect(new NativeHmacWebhook(secret).sign('msg_1', at, payload), secret).to.equal(new StandardWebhook(secret).sign('msg_1', at, payload));
      }
    });
  }

  it('refuses the secrets the library refuses', () => {
    for (const secret of ['whsec_not base64!', 'It\'s a Secret to Everybody', 'whsec_']) {
      expect(() => new StandardWebhook(secret), secret).to.throw();
      expect(() => new NativeHmacWebhook(secret), secret).to.throw();
    }
  });
});
