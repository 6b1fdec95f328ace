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
  { name: 'main', path: '^src/main\\.ts$', what: 'process entry: config, local nats-server, edge processes, signals' },
  { name: 'service', path: '^src/service\\.ts$', what: 'wires the HTTP edge, processing and the dependencies to the NATS link' },
  { name: 'serviceConfig', path: '^src/serviceConfig\\.ts$', what: 'the whole configuration, read once from the environment' },
  { name: 'edgeProcesses', path: '^src/edgeProcesses\\.ts$', what: 'the process model: the HTTP edge in several processes' },
  { name: 'http', path: '^src/http/', what: 'the HTTP edge: Koa app, error mapping, routes, ingest protection, status page' },
  { name: 'ops', path: '^src/ops/', what: 'stats, actor states, Prometheus metrics, the live feed' },
  { name: 'sources', path: '^src/sources/', what: 'one folder per webhook source: schema, the type derived from it, pipeline; one registry' },
  { name: 'processing', path: '^src/processing/', what: 'after the publish ack: pull consumers, retries, dead letters' },
  { name: 'dependencies', path: '^src/dependencies/', what: 'one folder per dependency, the actor runtime and ownership across instances, one registry, one public face (mod.ts)' },
  { name: 'ingest', path: '^src/ingest/', what: 'accepting a webhook: body, delivery id, schema check, publisher' },
  { name: 'store', path: '^src/store/', what: 'the KV status and result store shared by edge, processing and admin routes' },
  { name: 'bus', path: '^src/bus/', what: 'the map of the bus (every name), its topology, the NATS connection, publish with ack' },
  { name: 'tracing', path: '^src/tracing/', what: 'OpenTelemetry: the SDK started from OTEL_* variables, span helpers, trace context in NATS headers' },
  { name: 'config', path: '^src/config/', what: 'environment parsing and the settings of each area' },
  // Below config: it turns WEBHOOK_SIGNATURE_<SOURCE> into each source's verifier at start.
  { name: 'signatures', path: '^src/signatures/', what: 'the webhook signature schemes, one per provider' },
  { name: 'nats', path: '^src/nats/', what: 'starting a local nats-server' },
  { name: 'primitives', path: '^src/(backoff|tokenBucket)\\.ts$', what: 'capped exponential backoff and the token bucket, pure functions every limiter and retry uses' },
  { name: 'log', path: '^src/log\\.ts$', what: 'the pino logger' },
  { name: 'errors', path: '^src/errors/', what: 'ServiceError, IngestError and every stable error code' },
];

/** The public face of the dependencies: the only file of src/dependencies/ the rest of the service imports. */
const DEPENDENCIES_FACE = '^src/dependencies/mod\\.ts$';

/**
 * What a dependency's folder may use of the runtime: defining a dependency,
 * its caller and errors, the call context. The machine, breaker,
 * supervisor, mailbox and buckets are internals.
 */
const RUNTIME_PUBLIC = '^src/dependencies/runtime/(definition|caller|errors|performCall)\\.ts$';

/** Each dependency's own folder. */
const DEPENDENCY_FOLDERS = '^src/dependencies/(audnex|mam|openai|botpress|browser|http)/';

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
      name: 'dependencies-through-face',
      comment: 'Outside src/dependencies/, the service reaches the dependencies only through dependencies/mod.ts.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/dependencies/' },
      to: { path: '^src/dependencies/', pathNot: DEPENDENCIES_FACE },
    },
    {
      name: 'dependency-folders-through-runtime-surface',
      comment: `A dependency's folder uses the runtime's public files only (${RUNTIME_PUBLIC}), not its internals.`,
      severity: 'error',
      from: { path: DEPENDENCY_FOLDERS },
      to: { path: '^src/dependencies/runtime/', pathNot: RUNTIME_PUBLIC },
    },
    {
      name: 'dependency-folders-apart',
      comment: 'A dependency folder does not import another (the registry wires one to another), except the shared HTTP helpers and the browser pieces MAM\'s login uses.',
      severity: 'error',
      from: { path: '^src/dependencies/(audnex|mam|openai|botpress)/' },
      to: { path: '^src/dependencies/(audnex|mam|openai|botpress)/', pathNot: '^src/dependencies/$1/' },
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
      comment: 'The service never imports test code. Tests and benchmarks may (benchmarks reuse the stub servers).',
      severity: 'error',
      from: { path: '^src/' },
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
      comment: 'The service runs with production dependencies only.',
      severity: 'error',
      from: { path: '^src/' },
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
