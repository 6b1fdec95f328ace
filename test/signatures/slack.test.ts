import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import sinon from 'sinon';
import { slackScheme } from '../../src/signatures/slack.js';
import { ORDER_BODY } from '../helpers/service.js';
import { useSignedIngest } from '../helpers/signedIngest.js';
import { ACCEPT, expectSameDecision, refused, type Verdict } from './verdict.js';

// The worked example in Slack's "Verifying requests from Slack".
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

const SECRET = 'slack-current-signing-secret';
const PREVIOUS = 'slack-previous-signing-secret';
const OTHER = 'slack-secret-nobody-configured';
const now = () => Math.floor(Date.now() / 1000);
let n = 0;

/** Slack's documented signing: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`. */
const slackSign = (body: string, timestamp: string, secret = SECRET) =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

/** Slack's documented check: timestamp within five minutes, then the signature, with any configured secret. */
function slackVerdict(body: string, timestamp: string | undefined, signature: string | undefined): Verdict {
  if (timestamp === undefined || signature === undefined) return refused('MISSING');
  if (!/^\d+$/.test(timestamp)) return refused('INVALID');
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 60 * 5) return refused('EXPIRED');
  return [SECRET, PREVIOUS].some((s) => slackSign(body, timestamp, s) === signature) ? ACCEPT : refused('INVALID');
}

function eventBody(): { eventId: string; body: string } {
  const eventId = `Ev0TEST${++n}`;
  return { eventId, body: JSON.stringify({ type: 'event_callback', event_id: eventId, ...ORDER_BODY }) };
}

/** Headers signed at now + `offsetS`, optionally changed afterwards. */
function signedAt(body: string, offsetS = 0, secret = SECRET, change: (h: { timestamp: string; signature: string }) => Partial<{ timestamp: string; signature: string }> = () => ({})) {
  const timestamp = String(now() + offsetS);
  const h = { timestamp, signature: slackSign(body, timestamp, secret) };
  return { ...h, ...change(h) };
}

const cases: [string, (body: string) => { timestamp?: string; signature?: string }][] = [
  ['a valid signature', (b) => signedAt(b)],
  ['a signature made with the previous secret', (b) => signedAt(b, 0, PREVIOUS)],
  ['a signature made with another secret', (b) => signedAt(b, 0, OTHER)],
  ['a timestamp six minutes old', (b) => signedAt(b, -360)],
  ['a timestamp six minutes ahead', (b) => signedAt(b, 360)],
  ['a timestamp four minutes old', (b) => signedAt(b, -240)],
  ['a timestamp changed after signing', (b) => signedAt(b, 0, SECRET, (h) => ({ timestamp: String(Number(h.timestamp) - 1) }))],
  ['upper-case hex', (b) => signedAt(b, 0, SECRET, (h) => ({ signature: `v0=${h.signature.slice(3).toUpperCase()}` }))],
  ['junk appended', (b) => signedAt(b, 0, SECRET, (h) => ({ signature: `${h.signature}00` }))],
  ['a timestamp that is not a number', (b) => ({ timestamp: 'now', signature: slackSign(b, 'now') })],
  ['no signature header', (b) => ({ timestamp: signedAt(b).timestamp })],
  ['no timestamp header', (b) => ({ signature: signedAt(b).signature })],
];

describe('Slack signatures', () => {
  describe("Slack's documented example", () => {
    afterEach(() => sinon.restore());

    it('verifies at the time it was signed', () => {
      sinon.useFakeTimers({ now: Number(DOC_TIMESTAMP) * 1000 + 60_000, toFake: ['Date'] });
      const verify = slackScheme.verifier([DOC_SECRET]);
      expect(() => verify({ 'x-slack-signature': DOC_SIGNATURE, 'x-slack-request-timestamp': DOC_TIMESTAMP }, Buffer.from(DOC_BODY))).not.to.throw();
    });

    it('is refused as expired today', () => {
      const verify = slackScheme.verifier([DOC_SECRET]);
      expect(() => verify({ 'x-slack-signature': DOC_SIGNATURE, 'x-slack-request-timestamp': DOC_TIMESTAMP }, Buffer.from(DOC_BODY)))
        .to.throw()
        .with.property('code', 'INGEST_SIGNATURE_EXPIRED');
    });
  });

  describe('through HTTP, against the documented algorithm', () => {
    const ingest = useSignedIngest({ WEBHOOK_SIGNATURE_ORDERS: 'slack', WEBHOOK_SECRET_ORDERS: SECRET, WEBHOOK_SECRET_ORDERS_PREVIOUS: PREVIOUS });

    for (const [name, sign] of cases) {
      it(`decides as Slack's check on ${name}`, async () => {
        const { eventId, body } = eventBody();
        const { timestamp, signature } = sign(body);
        const headers: Record<string, string> = {};
        if (timestamp !== undefined) headers['x-slack-request-timestamp'] = timestamp;
        if (signature !== undefined) headers['x-slack-signature'] = signature;
        const outcome = await ingest().post('orders', body, headers);
        const verdict = slackVerdict(body, timestamp, signature);
        expectSameDecision(outcome, verdict);
        if (verdict.accept) expect(outcome.id, 'event_id is the delivery id').to.equal(eventId);
      });
    }
  });
});
