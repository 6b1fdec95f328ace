/**
 * `npm run bench:browser`: 10 concurrent scrapes through the browser actor
 * (a local site, pages answered after 300 ms so they overlap), with the
 * actor's concurrency at BROWSER_CONCURRENCY's default (5) and at 10.
 * Samples the Chromium process tree from /proc every 100 ms (reading
 * smaps_rollup is not free: sampling more often slows Chromium down) and
 * prints the peaks: browser processes (the target is one), processes in the
 * tree, and the tree's memory summed as RSS (shared pages counted once per
 * process) and as PSS (shared pages split, closer to what the machine spends).
 */
import { browserDependency } from '../src/dependencies/browser/browser.js';
import { parseHostPort } from '../src/config/allowHosts.js';
import { BROWSER_DEFAULTS } from '../src/dependencies/browser/settings.js';
import { startDependencies } from '../src/dependencies/runtime/runtime.js';
import { chromiumBrowsers, listProcesses, memoryOf, processTree } from '../test/helpers/chromiumProcesses.js';
import { startPagesStub } from '../test/stubs/pages.js';

const scrapes = Number(process.env.BENCH_SCRAPES ?? 10);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MB = 2 ** 20;
const SAMPLE_EVERY_MS = 100;

interface Sample {
  browsers: number;
  processes: number;
  rssBytes: number;
  pssBytes: number;
}

function sample(): Sample {
  const table = listProcesses();
  const roots = chromiumBrowsers(process.pid, table);
  const pids = roots.flatMap((root) => processTree(root, table));
  return { browsers: roots.length, processes: pids.length, ...memoryOf(pids) };
}

const peak = (samples: Sample[], key: keyof Sample) => Math.max(0, ...samples.map((s) => s[key]));

async function run(concurrency: number) {
  const site = await startPagesStub();
  // The stub is on loopback, which the browser refuses unless allow-listed.
  const allowHosts = [parseHostPort(new URL(site.url).host)!];
  const settings = { ...BROWSER_DEFAULTS, rate: 1000, burst: 100, concurrency, chromiumPath, allowHosts };
  // The bench runs no service: port 9 (discard) stands in for its port.
  const runtime = startDependencies({ browser: browserDependency(settings, { forbiddenPorts: [9] }) });
  try {
    await runtime.deps.browser.scrape(`${site.url}/article`);
    const idle = sample();
    site.answerDelayMs = 300;
    const samples: Sample[] = [];
    const timer = setInterval(() => samples.push(sample()), SAMPLE_EVERY_MS);
    const began = performance.now();
    const pages = Array.from({ length: scrapes }, (_, i) => `${site.url}/${i % 2 === 0 ? 'article' : 'big'}`);
    const results = await Promise.all(pages.map((url) => runtime.deps.browser.scrape(url)));
    const elapsedMs = performance.now() - began;
    clearInterval(timer);
    samples.push(sample());
    if (!results.every((r) => r.status === 200)) throw new Error('a scrape did not answer 200');
    return {
      concurrency,
      'idle RSS MB': Math.round(idle.rssBytes / MB),
      'idle PSS MB': Math.round(idle.pssBytes / MB),
      'peak browsers': peak(samples, 'browsers'),
      'peak processes': peak(samples, 'processes'),
      'peak RSS MB': Math.round(peak(samples, 'rssBytes') / MB),
      'peak PSS MB': Math.round(peak(samples, 'pssBytes') / MB),
      'pages at once': site.maxConcurrency,
      'elapsed ms': Math.round(elapsedMs),
    };
  } finally {
    await runtime.stop();
    await site.close();
  }
}

const rows = [];
for (const concurrency of [BROWSER_DEFAULTS.concurrency, 10]) rows.push(await run(concurrency));
console.log(`${scrapes} concurrent scrapes, Chromium process tree sampled every ${SAMPLE_EVERY_MS} ms from /proc:`);
console.table(rows);
const left = chromiumBrowsers();
if (left.length > 0) throw new Error(`Chromium processes left running: ${left.join(', ')}`);
