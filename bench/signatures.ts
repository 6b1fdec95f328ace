/**
 * `npx tsx bench/signatures.ts`: time per Standard Webhooks verification of
 * a valid request, with the `standardwebhooks` library as published (its
 * pure-JavaScript SHA-256) and with {@link NativeHmacWebhook} (the same
 * `verify()`, node:crypto's HMAC), for 1 KiB, 64 KiB and 1 MiB bodies, of a
 * valid request and of a forged one. The forged row is what any client can
 * make the edge spend before it is authenticated. A valid request also pays
 * the library's `payload.toString()` after the match. Bounded: at most 2,000
 * runs per cell.
 */
import { Webhook } from 'standardwebhooks';
import { NativeHmacWebhook } from '../src/signatures/standard.js';

const SECRET = `whsec_${Buffer.from('a-32-byte-long-test-signing-key!').toString('base64')}`;

function microsPerRun(runs: number, verify: () => void): number {
  verify();
  const began = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) verify();
  return Number(process.hrtime.bigint() - began) / 1000 / runs;
}

const rows = [];
for (const [bytes, runs] of [[1024, 2000], [65_536, 200], [1_048_576, 10]] as const) {
  const body = Buffer.from(JSON.stringify({ url: 'https://example.com/', text: 'x'.repeat(bytes - 40) }));
  const at = new Date();
  const headers = { 'webhook-id': 'msg_bench', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(SECRET).sign('msg_bench', at, body) };
  const library = new Webhook(SECRET);
  const native = new NativeHmacWebhook(SECRET);
  const forged = { ...headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` };
  const refused = (hook: Webhook) => () => {
    try {
      hook.verify(body, forged, { jsonParse: false });
    } catch {
      return;
    }
    throw new Error('a forged signature was accepted');
  };
  const valid = [library, native].map((hook) => microsPerRun(runs, () => hook.verify(body, headers, { jsonParse: false })));
  const forgedUs = [library, native].map((hook) => microsPerRun(runs, refused(hook)));
  rows.push({
    'body bytes': body.length,
    'valid: library µs': Math.round(valid[0]!),
    'valid: node:crypto µs': Math.round(valid[1]!),
    'forged: library µs': Math.round(forgedUs[0]!),
    'forged: node:crypto µs': Math.round(forgedUs[1]!),
  });
}
console.table(rows);
