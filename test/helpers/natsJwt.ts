import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';

/** Decentralised (JWT) authentication for one test server: an operator, its accounts and one user. */
export interface JwtAuthSetup {
  /** nats-server configuration: the operator, the system account and a memory resolver preloaded with both accounts. */
  serverConfig: string;
  /** A `.creds` file's text for a user of the JetStream-enabled account. */
  creds: string;
  /** A `.creds` file's text for a user signed by another operator's account, which the server must refuse. */
  strangerCreds: string;
}

// JetStream in an operator-mode account needs limits; -1 is unlimited.
const JETSTREAM_UNLIMITED = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1, subs: -1, data: -1, payload: -1, conn: -1 };

async function userCreds(account: ReturnType<typeof createAccount>, name: string): Promise<string> {
  const user = createUser();
  return new TextDecoder().decode(fmtCreds(await encodeUser(name, user, account), user));
}

/**
 * Makes an operator, a system account, an account `relay` with JetStream
 * and a user of it, as `nsc` would, with `@nats-io/jwt` and `@nats-io/nkeys`.
 */
export async function makeJwtAuth(): Promise<JwtAuthSetup> {
  const operator = createOperator();
  const system = createAccount();
  const relay = createAccount();
  const operatorJwt = await encodeOperator('test-operator', operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount('SYS', system, {}, { signer: operator });
  const relayJwt = await encodeAccount('relay', relay, { limits: JETSTREAM_UNLIMITED }, { signer: operator });
  const serverConfig = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    'resolver: MEMORY',
    `resolver_preload: {`,
    `  ${system.getPublicKey()}: ${systemJwt}`,
    `  ${relay.getPublicKey()}: ${relayJwt}`,
    '}',
  ].join('\n');
  return { serverConfig, creds: await userCreds(relay, 'relay-user'), strangerCreds: await userCreds(createAccount(), 'stranger') };
}
