import { ADVISORIES_STREAM, Buckets, DEAD_LETTERS_STREAM, MOVER_CONSUMER, OpsSubjects, WEBHOOKS_STREAM, callSubject, webhookSubject } from './names.js';

/**
 * The NATS users of the service and the nats CLI, and exactly which subjects
 * each may publish and subscribe to: allow lists of the service's own
 * streams, consumers, buckets and subjects, derived from {@link names} so they
 * cannot drift. `deploy/nats/accounts.conf` is written from them
 * (`npx tsx scripts/natsAccounts.ts`), and a test checks it is current.
 */
export type NatsRole = 'edge' | 'worker' | 'relay' | 'operator';

/** One user's permissions. */
export interface RolePermissions {
  publish: string[];
  subscribe: string[];
  /** Whether it may answer requests whose reply subject it could not publish to otherwise (another user's inbox). */
  allowResponses: boolean;
  /** The inbox prefix its client uses (`NATS_INBOX_PREFIX`); only it can read replies there. */
  inboxPrefix: string;
}

/** What the permissions are made for. */
export interface PermissionsInput {
  sources: readonly string[];
  dependencies: readonly string[];
}

const API = '$JS.API';
const streamInfo = (s: string) => `${API}.STREAM.INFO.${s}`;
/** Create and update of a stream (idempotent at every start). */
const ensureStream = (s: string) => [`${API}.STREAM.CREATE.${s}`, `${API}.STREAM.UPDATE.${s}`, streamInfo(s)];
/** Create (by either API form), update and info of one durable consumer. */
const ensureConsumer = (s: string, c: string) => [
  `${API}.CONSUMER.CREATE.${s}.${c}`,
  `${API}.CONSUMER.CREATE.${s}.${c}.>`,
  `${API}.CONSUMER.DURABLE.CREATE.${s}.${c}`,
  `${API}.CONSUMER.INFO.${s}.${c}`,
];
/** Reading one message of a stream, by the API and directly. */
const readMessages = (s: string) => [`${API}.STREAM.MSG.GET.${s}`, `${API}.DIRECT.GET.${s}`, `${API}.DIRECT.GET.${s}.>`];
const bucketStream = (b: string) => `KV_${b}`;
/** Everything a KV client does with bucket `b`: put, get, watch and list keys (ordered consumers with flow control). */
const useBucket = (b: string) => [
  `$KV.${b}.>`,
  ...ensureStream(bucketStream(b)),
  ...readMessages(bucketStream(b)),
  `${API}.CONSUMER.CREATE.${bucketStream(b)}`,
  `${API}.CONSUMER.CREATE.${bucketStream(b)}.>`,
  `${API}.CONSUMER.DELETE.${bucketStream(b)}.>`,
  `${API}.CONSUMER.INFO.${bucketStream(b)}.>`,
  `$JS.FC.${bucketStream(b)}.>`,
];

/** Subjects every process of the operating view publishes and listens on. */
const OPS = [OpsSubjects.presence, OpsSubjects.metrics, `${OpsSubjects.metrics}.*`, OpsSubjects.recent, OpsSubjects.actors, OpsSubjects.watch, OpsSubjects.allEvents];

function allBuckets(sources: readonly string[]): string[] {
  return [Buckets.status, ...sources.map((s) => Buckets.results(s)), Buckets.sessions, Buckets.dependencyOwners, Buckets.dependencyState, Buckets.steps];
}

/** Stream and consumer information every service process reads at start (it verifies what it may not create). */
function topologyInfo(o: PermissionsInput): string[] {
  return [
    `${API}.INFO`,
    ...[WEBHOOKS_STREAM, DEAD_LETTERS_STREAM, ADVISORIES_STREAM, ...allBuckets(o.sources).map(bucketStream)].map(streamInfo),
    ...o.sources.map((s) => `${API}.CONSUMER.INFO.${WEBHOOKS_STREAM}.${s}`),
    `${API}.CONSUMER.INFO.${ADVISORIES_STREAM}.${MOVER_CONSUMER}`,
  ];
}

/** The HTTP edge: publishes webhooks, reads statuses (and a waiting webhook by its sequence), marks replayed webhooks `queued`, serves the dead-letter admin routes and the operating view. Reads no result and no pipeline data. */
function edge(o: PermissionsInput): RolePermissions {
  const status = bucketStream(Buckets.status);
  return {
    publish: [
      ...topologyInfo(o),
      ...o.sources.map(webhookSubject),
      `${API}.STREAM.MSG.GET.${WEBHOOKS_STREAM}`,
      `$KV.${Buckets.status}.>`,
      ...readMessages(status),
      ...readMessages(DEAD_LETTERS_STREAM),
      `${API}.STREAM.MSG.DELETE.${DEAD_LETTERS_STREAM}`,
      ...OPS,
    ],
    subscribe: ['_INBOX_edge.>', ...OPS],
    allowResponses: true,
    inboxPrefix: '_INBOX_edge',
  };
}

/** Processing: creates the topology, pulls and acks, moves dead letters, owns dependencies and serves their calls, writes every bucket. */
function worker(o: PermissionsInput): RolePermissions {
  return {
    publish: [
      ...topologyInfo(o),
      ...ensureStream(WEBHOOKS_STREAM),
      ...ensureStream(DEAD_LETTERS_STREAM),
      ...ensureStream(ADVISORIES_STREAM),
      ...o.sources.flatMap((s) => [...ensureConsumer(WEBHOOKS_STREAM, s), `${API}.CONSUMER.MSG.NEXT.${WEBHOOKS_STREAM}.${s}`, `$JS.ACK.${WEBHOOKS_STREAM}.${s}.>`]),
      ...ensureConsumer(ADVISORIES_STREAM, MOVER_CONSUMER),
      `${API}.CONSUMER.MSG.NEXT.${ADVISORIES_STREAM}.${MOVER_CONSUMER}`,
      `$JS.ACK.${ADVISORIES_STREAM}.${MOVER_CONSUMER}.>`,
      ...readMessages(WEBHOOKS_STREAM),
      `${API}.STREAM.MSG.DELETE.${WEBHOOKS_STREAM}`,
      ...readMessages(DEAD_LETTERS_STREAM),
      'dead.webhooks.>',
      ...allBuckets(o.sources).flatMap(useBucket),
      ...o.dependencies.map(callSubject),
      ...OPS,
    ],
    subscribe: ['_INBOX_worker.>', ...o.dependencies.map(callSubject), ...OPS],
    allowResponses: true,
    inboxPrefix: '_INBOX_worker',
  };
}

/** Read-only for the nats CLI: stream, consumer and bucket information, single messages and keys, the ops requests. */
function operator(o: PermissionsInput): RolePermissions {
  const streams = [WEBHOOKS_STREAM, DEAD_LETTERS_STREAM, ADVISORIES_STREAM, ...allBuckets(o.sources).map(bucketStream)];
  return {
    publish: [
      `${API}.INFO`,
      `${API}.STREAM.NAMES`,
      `${API}.STREAM.LIST`,
      ...streams.flatMap((s) => [streamInfo(s), `${API}.CONSUMER.NAMES.${s}`, `${API}.CONSUMER.LIST.${s}`, `${API}.CONSUMER.INFO.${s}.*`, ...readMessages(s)]),
      OpsSubjects.metrics,
      `${OpsSubjects.metrics}.*`,
      OpsSubjects.recent,
      OpsSubjects.actors,
    ],
    subscribe: ['_INBOX.>', ...OPS],
    allowResponses: false,
    inboxPrefix: '_INBOX',
  };
}

/** Each user's permissions; `relay` (`SERVICE_ROLE=all`) has the edge's and the worker's. */
export function rolePermissions(o: PermissionsInput): Record<NatsRole, RolePermissions> {
  const e = edge(o);
  const w = worker(o);
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return {
    edge: e,
    worker: w,
    relay: { publish: union(e.publish, w.publish), subscribe: union(['_INBOX_relay.>'], union(e.subscribe, w.subscribe).filter((s) => !s.startsWith('_INBOX_'))), allowResponses: true, inboxPrefix: '_INBOX_relay' },
    operator: operator(o),
  };
}

/** The variable each user's password is read from (defined before `accounts.conf` is included, or in the server's environment). */
const PASSWORD_VARIABLES: Readonly<Record<NatsRole, string>> = {
  relay: 'RELAY_PASSWORD',
  edge: 'EDGE_PASSWORD',
  worker: 'WORKER_PASSWORD',
  operator: 'OPERATOR_PASSWORD',
};

const list = (subjects: readonly string[], indent: string) => `[\n${subjects.map((s) => `${indent}  "${s}"`).join('\n')}\n${indent}]`;

/** `deploy/nats/accounts.conf`: the `relay` account with JetStream and its four users. */
export function accountsConf(o: PermissionsInput): string {
  const roles = rolePermissions(o);
  const users = (Object.keys(roles) as NatsRole[]).map((role) => {
    const p = roles[role];
    const i = '          ';
    return [
      `      # ${role}: NATS_USER=${role}, NATS_INBOX_PREFIX=${p.inboxPrefix}`,
      '      {',
      `        user: ${role}`,
      `        password: $${PASSWORD_VARIABLES[role]}`,
      '        permissions: {',
      `          publish: { allow: ${list(p.publish, i)} }`,
      `          subscribe: { allow: ${list(p.subscribe, i)} }`,
      ...(p.allowResponses ? ['          allow_responses: true'] : []),
      '        }',
      '      }',
    ].join('\n');
  });
  return [
    '# The relay account and its users, least privilege per role. Generated from',
    '# src/bus/permissions.ts by `npx tsx scripts/natsAccounts.ts`: edit that, not this.',
    '# The passwords are the variables RELAY_PASSWORD, EDGE_PASSWORD, WORKER_PASSWORD and',
    '# OPERATOR_PASSWORD: set them in the server\'s environment, or define them above this',
    '# text in the same file (an include is parsed on its own). See "Least privilege per role" in docs/security.md.',
    'accounts {',
    '  relay {',
    '    jetstream: enabled',
    '    users: [',
    users.join('\n'),
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}
