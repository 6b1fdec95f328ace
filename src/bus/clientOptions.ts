import { createInbox, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { NatsClientConfig } from '../config/natsClient.js';

/** A connection with no credentials, TLS only when the server offers it, and `_INBOX` replies. */
export const OPEN_CLIENT: NatsClientConfig = { auth: { method: 'none' }, tls: undefined, inboxPrefix: '_INBOX' };

const encode = (text: string) => new TextEncoder().encode(text);

/**
 * The nats.js options that authenticate and encrypt a connection as
 * `client` says (its secrets are revealed here and nowhere else).
 */
export function clientConnectionOptions(client: NatsClientConfig): ConnectionOptions {
  const { auth, tls } = client;
  const options: ConnectionOptions = { inboxPrefix: client.inboxPrefix };
  if (auth.method === 'password') Object.assign(options, { user: auth.user, pass: auth.password.reveal() });
  else if (auth.method === 'token') options.token = auth.token.reveal();
  else if (auth.method === 'nkey') options.authenticator = nkeyAuthenticator(encode(auth.seed.reveal()));
  else if (auth.method === 'creds') options.authenticator = credsAuthenticator(encode(auth.creds.reveal()));
  // An empty object still requires TLS; the CA and client certificate are optional in it.
  if (tls) options.tls = { ...(tls.ca && { ca: tls.ca }), ...(tls.cert && { cert: tls.cert }), ...(tls.key && { key: tls.key.reveal() }) };
  return options;
}

/** A new inbox subject under `nc`'s inbox prefix (`NATS_INBOX_PREFIX`), where its user may receive replies. */
export function connectionInbox(nc: NatsConnection): string {
  return createInbox((nc as NatsConnection & { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
}
