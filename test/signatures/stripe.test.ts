import { expect } from 'chai';
import Stripe from 'stripe';
import { ORDER_BODY } from '../helpers/service.js';
import { useSignedIngest } from '../helpers/signedIngest.js';
import { ACCEPT, expectSameDecision, refused, type Verdict } from './verdict.js';

const SECRET = 'whsec_test_current_endpoint_secret';
const PREVIOUS = 'whsec_test_previous_endpoint_secret';
const OTHER = 'whsec_test_secret_nobody_configured';
// No request leaves the process: only the webhook helpers are used.
const stripe = new Stripe('sk_test_not_used');
const now = () => Math.floor(Date.now() / 1000);
let n = 0;

/** An order body carrying a Stripe event id, as Stripe puts it in every event. */
function eventBody(): { id: string; body: string } {
  const id = `evt_test_${++n}_${Date.now()}`;
  return { id, body: JSON.stringify({ id, object: 'event', ...ORDER_BODY }) };
}

const header = (body: string, secret = SECRET, timestamp = now()) => stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });

/** What stripe-node's `constructEvent` decides with any configured secret. */
function stripeVerdict(body: string, signature: string | undefined): Verdict {
  let verdict: Verdict = refused('INVALID');
  for (const secret of [SECRET, PREVIOUS]) {
    try {
      stripe.webhooks.constructEvent(body, signature as string, secret);
      return ACCEPT;
    } catch (e) {
      const message = (e as Error).message;
      if (/No stripe-signature header/.test(message)) verdict = refused('MISSING');
      else if (/Timestamp outside the tolerance zone/.test(message)) verdict = refused('EXPIRED');
    }
  }
  return verdict;
}

const cases: [string, (body: string) => string | undefined][] = [
  ['a valid signature', (b) => header(b)],
  ['a signature made with the previous secret', (b) => header(b, PREVIOUS)],
  ['a signature made with another secret', (b) => header(b, OTHER)],
  ['a timestamp six minutes old', (b) => header(b, SECRET, now() - 360)],
  ['a timestamp four minutes old', (b) => header(b, SECRET, now() - 240)],
  ['a timestamp six minutes ahead', (b) => header(b, SECRET, now() + 360)],
  ['an old timestamp with a wrong signature', (b) => header(b, OTHER, now() - 3600)],
  ['upper-case hex', (b) => header(b).replace(/v1=(\w+)/, (_, hex: string) => `v1=${hex.toUpperCase()}`)],
  ['junk appended to v1', (b) => `${header(b)}00`],
  ['several v1 with one valid', (b) => `${header(b, OTHER)},v1=${header(b).split('v1=')[1]}`],
  ['a valid signature under v0', (b) => header(b).replace('v1=', 'v0=')],
  ['no timestamp', (b) => header(b).replace(/^t=\d+,/, '')],
  ['a timestamp changed after signing', (b) => header(b).replace(/^t=(\d+)/, (_, t: string) => `t=${Number(t) - 1}`)],
  ['an empty v1 beside a valid one', (b) => `${header(b)},v1=`],
  ['no Stripe-Signature header', () => undefined],
];

describe('Stripe signatures (through HTTP, against stripe-node)', () => {
  const ingest = useSignedIngest({ WEBHOOK_SIGNATURE_ORDERS: 'stripe', WEBHOOK_SECRET_ORDERS: SECRET, WEBHOOK_SECRET_ORDERS_PREVIOUS: PREVIOUS });

  for (const [name, sign] of cases) {
    it(`decides as stripe.webhooks.constructEvent on ${name}`, async () => {
      const { body } = eventBody();
      const signature = sign(body);
      const outcome = await ingest().post('orders', body, signature === undefined ? {} : { 'stripe-signature': signature });
      expectSameDecision(outcome, stripeVerdict(body, signature));
    });
  }

  it('decides as constructEvent on a body changed after signing', async () => {
    const { body } = eventBody();
    const changed = body.replace('99.99', '0.01');
    const signature = header(body);
    expectSameDecision(await ingest().post('orders', changed, { 'stripe-signature': signature }), stripeVerdict(changed, signature));
  });

  it("stores the event under its Stripe id, even beside a delivery id header a replayer could change", async () => {
    const { id, body } = eventBody();
    const outcome = await ingest().post('orders', body, { 'stripe-signature': header(body), 'idempotency-key': 'replayed-1' });
    expect(outcome).to.include({ status: 202, id });
    expect(ingest().accepted.at(-1)).to.include({ id, idGenerated: false });
  });
});
