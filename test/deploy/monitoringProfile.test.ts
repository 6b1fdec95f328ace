import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { freePort, startLocalNats, type LocalNats } from '../../src/nats/localServer.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { ALERTS_FILE } from '../helpers/promql.js';
import { waitFor } from '../helpers/waitFor.js';

const run = promisify(execFile);
const deploy = (path: string) => fileURLToPath(new URL(`../../deploy/${path}`, import.meta.url));
const PROMETHEUS_FILE = deploy('prometheus/prometheus.yml');
const BLACKBOX_FILE = deploy('prometheus/blackbox.yml');
const ALERTMANAGER_FILE = deploy('alertmanager/alertmanager.yml');

/** `text` with each `[from, to]` replaced once; fails when `from` is not there, so a changed file cannot pass unnoticed. */
function rewrite(text: string, replacements: [string, string][]): string {
  return replacements.reduce((t, [from, to]) => {
    expect(t, `prometheus.yml still holds ${from}`).to.include(from);
    return t.replace(from, to);
  }, text);
}

describe('the compose monitoring profile (deploy/prometheus, deploy/alertmanager)', function () {
  this.timeout(90_000);
  let dir: string;
  let nats: LocalNats | undefined;
  let monitorPort: number;
  const daemons: Daemon[] = [];
  let prometheusApi: string;
  let alertmanagerApi: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webhook-relay-monitoring-'));
    monitorPort = await freePort();
    nats = await startLocalNats({ storeDir: join(dir, 'nats'), extraArgs: ['-m', String(monitorPort)] });
    const [blackboxPort, alertmanagerPort, prometheusPort] = [await freePort(), await freePort(), await freePort()];
    daemons.push(
      await startDaemon(
        'prometheus-blackbox-exporter',
        [`--config.file=${BLACKBOX_FILE}`, `--web.listen-address=127.0.0.1:${blackboxPort}`],
        `http://127.0.0.1:${blackboxPort}/-/healthy`,
      ),
    );
    alertmanagerApi = `http://127.0.0.1:${alertmanagerPort}/api/v2`;
    daemons.push(
      await startDaemon(
        'prometheus-alertmanager',
        // No cluster listener: a single Alertmanager, on loopback only.
        [`--config.file=${ALERTMANAGER_FILE}`, `--storage.path=${join(dir, 'alertmanager')}`, `--web.listen-address=127.0.0.1:${alertmanagerPort}`, '--cluster.listen-address='],
        `http://127.0.0.1:${alertmanagerPort}/-/ready`,
      ),
    );
    // The profile's own prometheus.yml, with the compose host names pointed at these processes.
    const canary = join(dir, 'canary.yml');
    await writeFile(canary, 'groups:\n  - name: canary\n    rules:\n      - alert: MonitoringProfileCanary\n        expr: vector(1)\n        labels: { severity: page }\n');
    const config = rewrite(await readFile(PROMETHEUS_FILE, 'utf8'), [
      ['scrape_interval: 15s', 'scrape_interval: 1s'],
      ['evaluation_interval: 15s', 'evaluation_interval: 1s'],
      ['  - /etc/prometheus/alerts.yml', `  - ${ALERTS_FILE}\n  - ${canary}`],
      ['alertmanager:9093', `127.0.0.1:${alertmanagerPort}`],
      ['"webhook-relay-1:3000", "webhook-relay-2:3000"', ''],
      ['"nats-1:8222", "nats-2:8222", "nats-3:8222"', `"127.0.0.1:${monitorPort}"`],
      ['blackbox-exporter:9115', `127.0.0.1:${blackboxPort}`],
    ]);
    await writeFile(join(dir, 'prometheus.yml'), config);
    prometheusApi = `http://127.0.0.1:${prometheusPort}/api/v1`;
    daemons.push(
      await startDaemon(
        '/usr/bin/prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${prometheusPort}`,
          // Alerts that fired before the Alertmanager was discovered are sent again within a second, not a minute.
          '--rules.alert.resend-delay=1s',
          '--log.level=warn',
        ],
        `http://127.0.0.1:${prometheusPort}/-/ready`,
      ),
    );
  });

  after(async () => {
    for (const d of daemons.splice(0).reverse()) await d.stop();
    await nats?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const query = async (q: string) => {
    const body = (await (await fetch(`${prometheusApi}/query?query=${encodeURIComponent(q)}`)).json()) as any;
    expect(body.status).to.equal('success');
    return body.data.result as { metric: Record<string, string>; value: [number, string] }[];
  };

  it('has a Prometheus configuration promtool accepts, its rule file included', async () => {
    const file = join(dir, 'as-deployed.yml');
    await writeFile(file, (await readFile(PROMETHEUS_FILE, 'utf8')).replace('/etc/prometheus/alerts.yml', ALERTS_FILE));
    const { stdout } = await run('promtool', ['check', 'config', file]);
    expect(stdout).to.include('SUCCESS');
  });

  it('has an Alertmanager configuration amtool accepts, routing every alert to the receiver named by its severity', async () => {
    const { stdout } = await run('amtool', ['check-config', ALERTMANAGER_FILE]);
    expect(stdout).to.include('SUCCESS');
    const severities = new Set([...(await readFile(ALERTS_FILE, 'utf8')).matchAll(/^\s+severity: (\w+)$/gm)].map((m) => m[1]!));
    expect([...severities].sort()).to.deep.equal(['page', 'ticket']);
    for (const severity of severities) {
      const routed = await run('amtool', ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_FILE}`, `severity=${severity}`, 'alertname=WebhookRelayDown']);
      expect(routed.stdout.trim()).to.equal(severity);
    }
  });

  it('sends what fires to the Alertmanager, which routes a page alert to the page receiver', async () => {
    const active = await waitFor('the Alertmanager discovered', async () => {
      const body = (await (await fetch(`${prometheusApi}/alertmanagers`)).json()) as any;
      return body.data.activeAlertmanagers.length > 0 ? body.data.activeAlertmanagers : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(active[0].url).to.equal(`${alertmanagerApi}/alerts`);
    const alert = await waitFor('the canary alert in Alertmanager', async () => {
      const alerts = (await (await fetch(`${alertmanagerApi}/alerts`)).json()) as any[];
      return alerts.find((a) => a.labels.alertname === 'MonitoringProfileCanary');
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(alert.receivers.map((r: { name: string }) => r.name)).to.deep.equal(['page']);
  });

  it('probes the NATS server\'s monitoring port: probe_success 1 while it runs, 0 once it is gone, and the alert pending', async () => {
    const instance = `127.0.0.1:${monitorPort}`;
    const up = await waitFor('a successful probe', async () => {
      const r = await query('probe_success{job="nats"}');
      return r.length > 0 ? r : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(up.map((s) => [s.metric.instance, s.value[1]])).to.deep.equal([[instance, '1']]);
    await nats!.stop();
    nats = undefined;
    await waitFor('a failed probe', async () => (await query('probe_success{job="nats"}'))[0]?.value[1] === '0', { timeoutMs: 30_000, intervalMs: 200 });
    const pending = await waitFor('WebhookRelayNatsServerDown pending', async () => {
      const body = (await (await fetch(`${prometheusApi}/alerts`)).json()) as any;
      return (body.data.alerts as { labels: Record<string, string>; state: string }[]).find((a) => a.labels.alertname === 'WebhookRelayNatsServerDown');
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(pending.state).to.equal('pending');
    expect(pending.labels).to.include({ job: 'nats', instance, severity: 'ticket' });
  });
});
