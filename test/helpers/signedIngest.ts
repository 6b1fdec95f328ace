import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { loadSignatureConfig, type SourceSignature } from '../../src/config/signatures.js';
import type { Env } from '../../src/config/parse.js';
import { errorHandler } from '../../src/http/errorHandler.js';
import { mountWebhookRoute } from '../../src/http/routes/webhooks.js';
import { SourceValidator } from '../../src/ingest/validator.js';
import { createLogger } from '../../src/log.js';
import { sources } from '../../src/sources/registry.js';
import type { AcceptedWebhook } from '../../src/ingest/publisher.js';

/** The outcome of one POST: the status, the error code if refused, the id if accepted. */
export interface IngestOutcome {
  status: number;
  code?: string;
  id?: string;
}

/**
 * The real webhook route and error handler on a loopback `listen(0)` server,
 * its signature settings swappable between tests. The stream is out of
 * scope here: `publish` records what would be stored.
 */
export class SignedIngest {
  readonly accepted: AcceptedWebhook[] = [];
  private signatures = new Map<string, SourceSignature>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Starts the route on 127.0.0.1. */
  static async start(): Promise<SignedIngest> {
    const app = new Koa();
    app.silent = true;
    const router = new Router();
    mountWebhookRoute(router, {
      config: {
        maxBodyBytes: 65_536,
        get signatures() {
          return ingest.signatures;
        },
      },
      sources,
      validator: new SourceValidator(sources.values()),
      publish: async (w) => {
        ingest.accepted.push(w);
        return { seq: ingest.accepted.length, duplicate: false };
      },
      accepting: () => true,
    });
    app.use(errorHandler(createLogger('silent')));
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    // Read by the route above only once requests arrive, after this line.
    const ingest = new SignedIngest(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return ingest;
  }

  /** Reads signature settings as the service does at start (`WEBHOOK_SECRET_*`, `WEBHOOK_SIGNATURE_*`). */
  configure(env: Env): void {
    this.signatures = loadSignatureConfig(env, sources.keys());
  }

  /** POSTs `body` as JSON to `/webhooks/<source>` with `headers`. */
  async post(source: string, body: string, headers: Record<string, string>): Promise<IngestOutcome> {
    const res = await fetch(`${this.url}/webhooks/${source}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const json = (await res.json()) as { id?: string; error?: { code: string } };
    return { status: res.status, code: json.error?.code, id: json.id };
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * Starts a {@link SignedIngest} configured with `env` before the enclosing
 * `describe`'s tests and stops it after them.
 * @returns a getter for the running ingest
 */
export function useSignedIngest(env: Env): () => SignedIngest {
  let ingest: SignedIngest | undefined;
  before(async () => {
    ingest = await SignedIngest.start();
    ingest.configure(env);
  });
  after(async () => ingest?.stop());
  return () => ingest!;
}
