import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** deploy/prometheus/alerts.yml */
export const ALERTS_FILE = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));
/** deploy/prometheus/alerts.test.yml */
export const ALERTS_TEST_FILE = fileURLToPath(new URL('../../deploy/prometheus/alerts.test.yml', import.meta.url));
/** deploy/grafana/webhook-relay.json */
const DASHBOARD_FILE = fileURLToPath(new URL('../../deploy/grafana/webhook-relay.json', import.meta.url));

/** One alerting rule: its name and PromQL. */
export interface AlertRule {
  alert: string;
  expr: string;
}

/**
 * The alerting rules of a Prometheus rule file. A reader for the layout
 * alerts.yml uses (`- alert:` then `expr:` inline or as a `|` block), so the
 * tests need no YAML dependency; promtool checks the file itself.
 */
export function alertRules(path = ALERTS_FILE): AlertRule[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const rules: AlertRule[] = [];
  for (let i = 0; i < lines.length; i++) {
    const alert = /^\s*- alert:\s*(\S+)/.exec(lines[i]!);
    if (alert) rules.push({ alert: alert[1]!, expr: '' });
    const expr = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!expr || rules.length === 0) continue;
    if (expr[2] !== '|') {
      rules.at(-1)!.expr = expr[2]!;
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > expr[1]!.length)) block.push(lines[++i]!.trim());
    rules.at(-1)!.expr = block.join(' ').trim();
  }
  return rules;
}

/** Every PromQL expression of the Grafana dashboard: panel targets and the variables' `label_values` queries. */
export function dashboardExpressions(path = DASHBOARD_FILE): string[] {
  const dashboard = JSON.parse(readFileSync(path, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { type: string; query?: unknown }[] };
  };
  const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const variables = dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => (typeof v.query === 'string' ? v.query : (v.query as { query: string }).query));
  return [...targets, ...variables];
}

/** Grafana's placeholders replaced with PromQL a parser accepts. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\w+/g, '.*');
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names an expression selects, as written (with any
 * `_bucket`/`_count`/`_sum` suffix): label matchers, ranges, grouping
 * clauses, strings and function names are not metric names.
 */
export function metricNames(expr: string): string[] {
  const stripped = withoutGrafanaVariables(expr)
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)/g, '$1')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:]|\s*\()/g)) {
    if (!KEYWORDS.has(m[1]!.toLowerCase())) names.add(m[1]!);
  }
  return [...names];
}

/**
 * The exported family a sample name belongs to: itself, or for
 * `<histogram>_bucket|_count|_sum` (and a summary's `_count|_sum`) the family.
 */
export function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  const m = /^(.*)_(bucket|count|sum)$/.exec(name);
  if (!m) return undefined;
  const type = types.get(m[1]!);
  if (type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')) return m[1];
  return undefined;
}
