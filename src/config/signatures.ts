import { DEFAULT_SIGNATURE_SCHEME, SIGNATURE_TOLERANCE_S, signatureSchemes, type SignatureScheme, type WebhookVerifier } from '../signatures/index.js';
import { ConfigError, readVar, type Env } from './parse.js';

/** The environment variable holding a source's signing secret (`WEBHOOK_SECRET_<SOURCE>`). */
export function secretVariable(source: string): string {
  return `WEBHOOK_SECRET_${source.toUpperCase().replace(/-/g, '_')}`;
}

/** How one source's signatures are checked, built once at start. */
export interface SourceSignature {
  /** `WEBHOOK_SIGNATURE_<SOURCE>` @default standard */
  scheme: SignatureScheme;
  /** Verifies against `WEBHOOK_SECRET_<SOURCE>`, then `WEBHOOK_SECRET_<SOURCE>_PREVIOUS`. */
  verify: WebhookVerifier;
}

/**
 * The shortest `DUPLICATE_WINDOW` while any source has a secret: a signed
 * request is accepted while its timestamp is within the tolerance of now,
 * either way, so one request stays acceptable for twice the tolerance.
 */
export const MIN_SIGNED_DUPLICATE_WINDOW_MS = 2 * SIGNATURE_TOLERANCE_S * 1000;

const SECRET_PREFIX = 'WEBHOOK_SECRET_';
const SCHEME_PREFIX = 'WEBHOOK_SIGNATURE_';
const PREVIOUS_SUFFIX = '_PREVIOUS';
const MIN_SECRET_LENGTH = 8;

/** The variables of one source. */
interface SourceVariables {
  source: string;
  secret: string;
  previous: string;
  scheme: string;
}

function variablesOf(sourceNames: Iterable<string>): Map<string, SourceVariables> {
  const byName = new Map<string, SourceVariables>();
  for (const source of sourceNames) {
    const secret = secretVariable(source);
    const vars = { source, secret, previous: `${secret}${PREVIOUS_SUFFIX}`, scheme: `${SCHEME_PREFIX}${secret.slice(SECRET_PREFIX.length)}` };
    for (const name of [vars.secret, vars.previous, vars.scheme]) {
      const other = byName.get(name);
      // A source named `x_previous` would make WEBHOOK_SECRET_X_PREVIOUS mean two things.
      if (other) throw new ConfigError(name, `is ambiguous: it belongs to sources '${other.source}' and '${source}'`);
      byName.set(name, vars);
    }
  }
  return byName;
}

function readSecret(env: Env, name: string): string | undefined {
  const secret = readVar(env, name);
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(name, `holds a secret shorter than ${MIN_SECRET_LENGTH} characters`);
  }
  return secret;
}

function readScheme(env: Env, name: string): SignatureScheme {
  const raw = readVar(env, name);
  if (raw === undefined) return DEFAULT_SIGNATURE_SCHEME;
  const scheme = signatureSchemes.get(raw);
  if (!scheme) throw new ConfigError(name, `must be one of ${[...signatureSchemes.keys()].join(', ')}, got '${raw}'`);
  return scheme;
}

function buildVerifier(scheme: SignatureScheme, secrets: [string, string][]): WebhookVerifier {
  for (const [name, secret] of secrets) {
    try {
      scheme.verifier([secret]);
    } catch (e) {
      const hint = name.endsWith(PREVIOUS_SUFFIX) ? '' : `; it holds one secret, a second one goes in ${name}${PREVIOUS_SUFFIX}`;
      throw new ConfigError(name, `${(e as Error).message} (scheme '${scheme.name}'${hint})`);
    }
  }
  return scheme.verifier(secrets.map(([, secret]) => secret));
}

/**
 * Reads, per source, `WEBHOOK_SECRET_<SOURCE>` (the whole value is one
 * secret), `WEBHOOK_SECRET_<SOURCE>_PREVIOUS` (also accepted, while rotating)
 * and `WEBHOOK_SIGNATURE_<SOURCE>` (the scheme), and builds each verifier.
 * @returns the sources that require a signature
 * @throws ConfigError naming the variable: one naming no source, an unknown
 *   scheme, a secret the scheme cannot use, a previous secret or a scheme without a secret.
 */
export function loadSignatureConfig(env: Env, sourceNames: Iterable<string>): Map<string, SourceSignature> {
  const byName = variablesOf(sourceNames);
  for (const name of Object.keys(env)) {
    if ((name.startsWith(SECRET_PREFIX) || name.startsWith(SCHEME_PREFIX)) && !byName.has(name) && readVar(env, name) !== undefined) {
      const known = [...new Set(byName.values())].map((v) => v.secret).join(', ');
      throw new ConfigError(name, `names no registered source (known: ${known}, each with _PREVIOUS and WEBHOOK_SIGNATURE_ variants)`);
    }
  }
  const out = new Map<string, SourceSignature>();
  for (const vars of new Set(byName.values())) {
    const current = readSecret(env, vars.secret);
    const previous = readSecret(env, vars.previous);
    const scheme = readScheme(env, vars.scheme);
    if (current === undefined) {
      if (previous !== undefined) throw new ConfigError(vars.previous, `is set but ${vars.secret} is not`);
      if (readVar(env, vars.scheme) !== undefined) throw new ConfigError(vars.scheme, `is set but ${vars.secret} is not`);
      continue;
    }
    const secrets: [string, string][] = [[vars.secret, current]];
    if (previous !== undefined) secrets.push([vars.previous, previous]);
    out.set(vars.source, { scheme, verify: buildVerifier(scheme, secrets) });
  }
  return out;
}
