/**
 * The baseline for `npm run bench:ingest`: a bare Koa route that reads,
 * parses and validates a webhook exactly like the real edge, but publishes
 * nothing. Prints its URL on stdout once listening.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { parseJsonBody, readBody } from '../src/ingest/body.js';
import { SourceValidator } from '../src/ingest/validator.js';
import { sources } from '../src/sources/registry.js';

const validator = new SourceValidator(sources.values());
const app = new Koa();
const router = new Router();
let seq = 0;
router.post('/webhooks/:source', async (ctx) => {
  const body = await readBody(ctx.req, 1_048_576);
  validator.validate(ctx.params.source!, parseJsonBody(body));
  ctx.status = 202;
  ctx.body = { id: String(++seq), source: ctx.params.source, seq, duplicate: false };
});
app.use(router.routes());
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
