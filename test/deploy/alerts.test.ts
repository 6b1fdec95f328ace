import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ALERTS_FILE, ALERTS_TEST_FILE, alertRules, dashboardExpressions, withoutGrafanaVariables } from '../helpers/promql.js';

const run = promisify(execFile);

/** Runs promtool; resolves with its exit code and output instead of throwing on a non-zero exit. */
async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('deploy/prometheus/alerts.yml', () => {
  const rules = alertRules();

  it('passes promtool check rules with every alert counted', async () => {
    const { code, output } = await promtool('check', 'rules', ALERTS_FILE);
    expect(code, output).to.equal(0);
    expect(output).to.match(new RegExp(`SUCCESS: ${rules.length} rules found`));
    expect(rules.map((r) => r.alert)).to.include.members([
      'WebhookRelayDown',
      'WebhookRelayBreakerOpen',
      'WebhookRelayDeadLettersGrowing',
      'WebhookRelayBacklogGrowing',
      'WebhookRelayOldestWaitingTooOld',
      'WebhookRelayIngest5xx',
      'WebhookRelayConsumerStalled',
      'WebhookRelayTargetMissing',
      'WebhookRelayStreamNearlyFull',
      'WebhookRelayDependencyWithoutOwner',
      'WebhookRelayDependencyOwnedTwice',
      'WebhookRelayNatsLinkDown',
      'WebhookRelayNatsServerDown',
    ]);
  });

  it('gives every alert a summary, a description and a runbook', async () => {
    const text = await readFile(ALERTS_FILE, 'utf8');
    const blocks = text.split(/^\s*- alert:/m).slice(1);
    expect(blocks).to.have.length(rules.length);
    for (const block of blocks) {
      for (const key of ['summary', 'description', 'runbook', 'severity']) expect(block, block.split('\n')[0]).to.match(new RegExp(`^\\s+${key}: \\S`, 'm'));
    }
  });

  it('passes its promtool unit tests', async () => {
    const { code, output } = await promtool('test', 'rules', ALERTS_TEST_FILE);
    expect(code, output).to.equal(0);
    expect(output).to.include('SUCCESS');
    expect(output).not.to.include('FAILED');
  });

  it('has a unit test where each alert fires and one where it must not', async () => {
    const cases = (await readFile(ALERTS_TEST_FILE, 'utf8')).split(/^\s*- eval_time:/m).slice(1);
    for (const { alert } of rules) {
      const mine = cases.filter((c) => new RegExp(`alertname: ${alert}\\s`).test(c));
      expect(mine.some((c) => /exp_alerts: \[\]/.test(c)), `${alert}: a case where it must not fire`).to.equal(true);
      expect(mine.some((c) => /exp_labels:/.test(c)), `${alert}: a case where it fires`).to.equal(true);
    }
  });
});

describe('deploy/grafana/webhook-relay.json', () => {
  it('holds only PromQL that Prometheus parses', async () => {
    const exprs = dashboardExpressions().filter((e) => !e.startsWith('label_values('));
    expect(exprs.length).to.be.greaterThan(10);
    // promtool parses every expression of a rule file: check them as recording rules.
    const dir = await mkdtemp(join(tmpdir(), 'webhook-relay-dashboard-'));
    try {
      const file = join(dir, 'dashboard-rules.yml');
      const rules = exprs.map((e, i) => `      - record: dashboard:expr${i}\n        expr: ${JSON.stringify(withoutGrafanaVariables(e))}`);
      await writeFile(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
      const { code, output } = await promtool('check', 'rules', file);
      expect(code, output).to.equal(0);
      expect(output).to.include(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
