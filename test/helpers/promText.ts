/** One sample of a Prometheus text exposition. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: samples plus each family's TYPE and HELP. */
export interface PromExposition {
  samples: PromSample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (!m) throw new Error(`bad labels in line: ${line}`);
    labels[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

// Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case.
function parseValue(raw: string, line: string): number {
  const word = raw.toLowerCase();
  if (word === '+inf' || word === 'inf') return Infinity;
  if (word === '-inf') return -Infinity;
  if (word === 'nan') return NaN;
  const n = Number(raw);
  if (Number.isNaN(n)) throw new Error(`bad value in line: ${line}`);
  return n;
}

/**
 * Parses the Prometheus text format 0.0.4 strictly: every line is a
 * comment, `# HELP`, `# TYPE` or a sample, each family is typed once before
 * its samples, and every sample belongs to a declared family.
 * @throws Error naming the first line that breaks the format.
 */
export function parsePrometheusText(text: string): PromExposition {
  const out: PromExposition = { samples: [], types: new Map(), help: new Map() };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('# HELP ')) {
      const rest = line.slice('# HELP '.length);
      const space = rest.indexOf(' ');
      const family = space < 0 ? rest : rest.slice(0, space);
      if (!NAME.test(family)) throw new Error(`bad HELP line: ${line}`);
      out.help.set(family, space < 0 ? '' : rest.slice(space + 1));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , family, type] = line.split(' ');
      if (!family || !NAME.test(family) || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? '')) throw new Error(`bad TYPE line: ${line}`);
      if (out.types.has(family)) throw new Error(`family typed twice: ${family}`);
      out.types.set(family, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const name = m[1]!;
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((f) => out.types.has(f));
    if (!family) throw new Error(`sample of an undeclared family: ${line}`);
    out.samples.push({ name, labels: m[3] ? parseLabels(m[3], line) : {}, value: parseValue(m[4]!, line) });
  }
  return out;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
export function sampleValue(exposition: PromExposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matching[0]?.value;
}
