// dependency-cruiser: the shape of the import graph (`npm run lint`).
//
// Imports run one way, from the entry point down. LAYERS below lists the
// layers top to bottom; a module may import its own layer and any layer
// below it, never one above (one `layer-<name>` rule per layer, generated
// from the table so the order is written once). Type-only imports count:
// a type import upward is as much a knot as a value import.
//
// A new folder under src/ must be placed in LAYERS (rule `layer-unknown`)
// before it can import anything; that is the moment to decide where it sits.

/** @typedef {{ name: string, path: string, what: string }} Layer */

/**
 * Top to bottom. `path` is a regular expression on the file path from the
 * repository root.
 * @type {Layer[]}
 */
const LAYERS = [
  { name: 'main', path: '^src/main\\.ts$', what: 'process entry: config, local nats-server, edge workers, signals' },
  { name: 'service', path: '^src/service\\.ts$', what: 'wires the HTTP edge, processing and the dependency actors to the NATS link' },
  { name: 'edgeWorkers', path: '^src/edgeWorkers\\.ts$', what: 'the process model: the HTTP edge in several processes' },
  { name: 'http', path: '^src/http/', what: 'the HTTP edge: Koa app, error mapping, routes, ingest protection, status page' },
  { name: 'ops', path: '^src/ops/', what: 'stats, actor states, Prometheus metrics, the live feed' },
  { name: 'handlers', path: '^src/handlers/', what: 'one pipeline per source, over typed dependency handles' },
  { name: 'processing', path: '^src/processing/', what: 'after the publish ack: pull consumers, retries, dead letters' },
  // Outside both columns below, like processing: it keeps dependency-owner
  // leases in KV buckets it creates through stream (and config's replica count).
  { name: 'cluster', path: '^src/cluster/', what: 'dependency-owner leases across instances and their KV buckets' },
  // Two columns below processing and cluster: the message path (ingest → store → stream)
  // and the dependency path (actors → runtime). See `columns-apart`.
  { name: 'ingest', path: '^src/ingest/(?!signatures/|ingestError\\.ts$)', what: 'accepting a webhook: body, delivery id, schema, publisher' },
  { name: 'store', path: '^src/store/', what: 'the KV status and result store shared by edge, processing and admin routes' },
  { name: 'stream', path: '^src/stream/', what: 'NATS connection, the WEBHOOKS stream, its consumers, publish with ack' },
  { name: 'actors', path: '^actors/', what: 'one dependency actor per file, reached through actors/index.ts' },
  { name: 'runtime', path: '^src/runtime/', what: 'the dependency-actor runtime: mailbox, rate limit, breaker, supervisor' },
  // Used by the edge, the message path, processing and the runtime alike, so
  // below both columns; it imports only the OpenTelemetry API and SDK.
  { name: 'tracing', path: '^src/tracing/', what: 'OpenTelemetry: the SDK started from OTEL_* variables, span helpers, trace context in NATS headers' },
  // The foundation every layer may use.
  { name: 'config', path: '^src/config/', what: 'environment parsing into one validated config object' },
  // Below config, as `sources` is: config turns WEBHOOK_SIGNATURE_<SOURCE> and
  // WEBHOOK_SECRET_<SOURCE> into each source's verifier at start, so that an
  // unknown scheme or a secret the scheme cannot use fails as a ConfigError
  // naming the variable. That needs the scheme table itself, not just its
  // names. The table uses only node:crypto, the providers' packages and
  // IngestError (which uses only errors/), so nothing in it reaches above
  // config; the rest of ingest stays where it is.
  { name: 'signatures', path: '^src/ingest/(signatures/|ingestError\\.ts$)', what: 'the webhook signature schemes, one per provider, and the IngestError they refuse with' },
  { name: 'sources', path: '^src/sources/', what: 'one file per webhook source with its JSON Schema' },
  { name: 'nats', path: '^src/nats/', what: 'starting a local nats-server' },
  { name: 'log', path: '^src/log\\.ts$', what: 'the pino logger' },
  { name: 'errors', path: '^src/errors/', what: 'ServiceError and the stable error codes' },
];

/** Paths of the message column and of the dependency column (see LAYERS). */
const MESSAGE_COLUMN = ['^src/ingest/', '^src/store/', '^src/stream/'];
const DEPENDENCY_COLUMN = ['^actors/', '^src/runtime/'];

/**
 * What actors may use of the runtime: defining a dependency, its caller and
 * errors, starting the runtime and its inspector. The machine, breaker,
 * supervisor, mailbox and buckets are internals.
 */
const RUNTIME_PUBLIC = '^src/runtime/(definition|caller|errors|runtime|inspector)\\.ts$';

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.name} (${layer.what}) may not import a layer above it: ${LAYERS.slice(0, i).map((l) => l.name).join(', ') || 'none'}`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: LAYERS.slice(0, i).map((l) => l.path) },
})).filter((rule) => rule.to.path.length > 0);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-unknown',
      comment: 'Every file under src/ belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
    {
      name: 'columns-apart',
      comment: 'The message path (ingest, store, stream) and the dependency path (actors, runtime) do not import each other; processing joins them.',
      severity: 'error',
      from: { path: MESSAGE_COLUMN },
      to: { path: DEPENDENCY_COLUMN },
    },
    {
      name: 'columns-apart-reverse',
      comment: 'The dependency path (actors, runtime) does not import the message path (ingest, store, stream).',
      severity: 'error',
      from: { path: DEPENDENCY_COLUMN },
      to: { path: MESSAGE_COLUMN },
    },
    {
      name: 'actors-through-runtime-surface',
      comment: `Actors use the runtime's public files only (${RUNTIME_PUBLIC}), not its internals.`,
      severity: 'error',
      from: { path: '^actors/' },
      to: { path: '^src/runtime/', pathNot: RUNTIME_PUBLIC },
    },
    {
      name: 'actors-through-index',
      comment: 'src/ reaches the dependency actors only through actors/index.ts (typed handles and what they return).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^actors/', pathNot: '^actors/index\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'No two modules import each other, directly or around a loop.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports and that imports nothing is dead or misplaced.',
      severity: 'error',
      from: { orphan: true, pathNot: ['\\.d\\.ts$', '(^|/)\\.[^/]+\\.(js|cjs|mjs|ts)$', '^eslint\\.config\\.js$'] },
      to: {},
    },
    {
      name: 'not-to-test',
      comment: 'The service and its actors never import test code. Tests and benchmarks may (benchmarks reuse the stub servers).',
      severity: 'error',
      from: { path: ['^src/', '^actors/'] },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or an installed package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'The service and actors run with production dependencies only.',
      severity: 'error',
      from: { path: ['^src/', '^actors/'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^node_modules/', '^dist/', '^data/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    // package.json "exports" with the conditions Node uses for ESM.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
