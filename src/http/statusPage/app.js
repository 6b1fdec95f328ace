// The status page: live from GET /events, with GET /stats and /actors as a fallback.
import { initDeadLetters, onDeadLetterStream } from './deadLetters.js';
import { renderDependencies, renderOverall } from './dependencies.js';
import { $, fact, h } from './dom.js';
import { ago, bytes, clock, dec, ms, num, rate, span, STATE_LABEL, until } from './format.js';
import { initLookup, setSources, webhookRef } from './lookup.js';
import { chart, Throughput } from './throughput.js';

const FEED_MAX = 60;

const state = {
  stats: undefined,
  actors: new Map(),
  throughput: new Throughput(),
  lastSnapshotAt: 0,
  showProcessed: false,
};

// ---------- totals ----------

function renderTotals(s) {
  $('uptime').textContent = span(s.uptimeS);
  if (s.covers) {
    const n = s.covers.instances.length;
    $('instances').textContent = `${n} instance${n === 1 ? '' : 's'}`;
    $('instances').title = `Totals add up ${s.covers.processes} process${s.covers.processes === 1 ? '' : 'es'} of ${s.covers.instances.join(', ')}; answered by ${s.instance}`;
  }
  $('k-received').textContent = num(s.received);
  $('k-received-sub').textContent = `${num(s.published)} stored · ${num(s.refused.total)} refused${s.duplicates ? ` · ${num(s.duplicates)} dup` : ''}`;
  $('k-processed').textContent = num(s.processed);
  $('k-processed-sub').textContent = `${num(s.failed)} failed ${s.failed === 1 ? 'delivery' : 'deliveries'}`;
  $('k-retried').textContent = num(s.retried);
  $('k-retried-sub').textContent = 'deliveries retried';
  $('k-dead').textContent = num(s.deadLettered);
  const waiting = s.deadLetters ? s.deadLetters.messages : null;
  $('k-dead-sub').textContent = waiting === null ? '' : `${num(waiting)} in the queue now`;
  $('kpi-dead').classList.toggle('alert', (waiting || 0) > 0);
  $('k-success').textContent = s.successRate === null ? '–' : `${dec(s.successRate * 100)}%`;
  $('k-inflight').textContent = `since start · ${num(s.inFlight)} in flight`;
  $('k-latency').textContent = ms(s.avgProcessingMs);
  $('k-latency-sub').textContent = `avg · p99 ${ms(s.p99ProcessingMs)}`;
}

function renderProtection(s) {
  const p = s.protection;
  $('protection').replaceChildren(
    fact('Rate limited (429)', num(p.rateLimited), p.rateLimited > 0),
    fact('Connections refused', num(p.connectionsRefused), p.connectionsRefused > 0),
    fact('Slow clients closed', num(p.slowClientsClosed)),
    fact('Open connections', num(p.openConnections)),
    fact('Live viewers', num(p.sseClients)),
    fact('Live events dropped', num(p.sseDropped)),
  );
  const codes = Object.entries(s.refused.byCode).sort((a, b) => b[1] - a[1]);
  $('streams').replaceChildren(
    fact('WEBHOOKS', s.stream ? `${num(s.stream.messages)} · ${bytes(s.stream.bytes)}` : '–'),
    fact('DEAD_LETTERS', s.deadLetters ? `${num(s.deadLetters.messages)} · ${bytes(s.deadLetters.bytes)}` : '–', s.deadLetters && s.deadLetters.messages > 0),
    ...codes.slice(0, 4).map(([code, n]) => fact(code, num(n))),
  );
}

// ---------- sources ----------

function renderSources(s) {
  const names = Object.keys(s.sources).sort();
  const figure = (label, value, cls, title) => h('div', { class: `figure ${cls}`, title }, h('span', {}, label), h('b', {}, value));
  $('sources').replaceChildren(
    ...names.map((name) => {
      const src = s.sources[name];
      const points = state.throughput.points(name);
      const last = points[points.length - 1] || { in: 0, out: 0 };
      return h(
        'article',
        { class: 'source', 'data-source': name },
        h(
          'div',
          { class: 'source-head' },
          h('span', { class: 'source-name' }, name),
          h('span', { class: 'source-counts' }, `${num(src.processed)} done · ${num(src.retried)} retried · ${num(src.deadLettered)} dead · ${num(src.inFlight)} running`),
        ),
        h(
          'div',
          { class: 'figures' },
          figure('in /s', rate(last.in), 'in', 'webhooks received per second'),
          figure('out /s', rate(last.out), 'out', 'webhooks processed per second'),
          figure('waiting', num(src.pending), 'pending', `${num(src.numPending)} not yet delivered, ${num(src.numAckPending)} delivered and not yet acknowledged`),
        ),
        chart(points),
      );
    }),
  );
  setSources(names);
}

// ---------- state updates ----------

function onStats(s) {
  state.stats = s;
  state.throughput.record(s);
  renderTotals(s);
  renderSources(s);
  renderProtection(s);
  renderOverall(state.actors, s);
  onDeadLetterStream(s.deadLetters);
}

function setActors(list) {
  state.actors = new Map(list.map((d) => [d.name, d]));
  renderDependencies(state.actors);
  renderOverall(state.actors, state.stats);
}

function feedItem(level, at, ...text) {
  const list = $('feed');
  const empty = list.querySelector('.empty');
  if (empty) empty.remove();
  list.prepend(h('li', { class: level }, h('time', { datetime: new Date(at).toISOString() }, clock(at)), h('span', { class: 'dot' }), h('span', { class: 'text' }, ...text)));
  while (list.children.length > FEED_MAX) list.lastElementChild.remove();
}

function onActor(e) {
  if (e.status) {
    state.actors.set(e.dependency, e.status);
    renderDependencies(state.actors);
    renderOverall(state.actors, state.stats);
  }
  if (e.cause === 'transition') {
    const level = e.to === 'open' ? 'bad' : e.to === 'halfOpen' ? 'warn' : 'ok';
    feedItem(level, e.at, h('b', {}, e.dependency), ` ${e.from ? `${STATE_LABEL[e.from]} → ` : ''}${STATE_LABEL[e.to]}`, e.reason ? ` · ${e.reason}` : '');
  } else if (e.cause === 'crashed') {
    feedItem('bad', e.at, h('b', {}, e.dependency), ` crashed · ${e.reason}`);
  }
}

function onWebhook(e) {
  const ref = webhookRef(e.source, e.id);
  if (e.outcome === 'deadLettered') feedItem('bad', e.at, ref, ` dead-lettered (${e.reason}${e.code ? `, ${e.code}` : ''})`);
  else if (e.outcome === 'retrying') feedItem('warn', e.at, ref, ` delivery ${e.deliveries} failed (${e.code}); retrying`);
  else if (e.outcome === 'exhausted') feedItem('bad', e.at, ref, ` delivery ${e.deliveries} failed (${e.code}); no attempts left`);
  else if (state.showProcessed) feedItem('ok', e.at, ref, ` done in ${ms(e.durationMs)}`);
}

function onSnapshot(snap) {
  state.lastSnapshotAt = Date.now();
  // The first snapshot brings what happened before this page opened.
  if (snap.recent && !$('feed').querySelector('li:not(.empty)')) {
    for (const e of snap.recent) {
      if (e.type === 'actor') onActor({ ...e, status: undefined });
      else if (e.type === 'webhook') onWebhook(e);
    }
  }
  onStats(snap.stats);
  setActors(snap.actors.dependencies);
}

// ---------- connection ----------

function setLive(mode, text) {
  $('live').dataset.state = mode;
  $('live-text').textContent = text;
}

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

async function poll() {
  try {
    const [stats, actors] = await Promise.all([getJson('/stats'), getJson('/actors')]);
    onStats(stats);
    setActors(actors.dependencies);
  } catch {
    setLive('reconnecting', 'service unreachable');
  }
}

function connect() {
  const es = new EventSource('/events');
  es.addEventListener('open', () => setLive('live', 'live'));
  es.addEventListener('error', () => setLive('reconnecting', 'reconnecting'));
  es.addEventListener('snapshot', (m) => onSnapshot(JSON.parse(m.data)));
  es.addEventListener('actor', (m) => onActor(JSON.parse(m.data)));
  es.addEventListener('webhook', (m) => onWebhook(JSON.parse(m.data)));
  es.addEventListener('suppressed', (m) => {
    const e = JSON.parse(m.data);
    if (state.showProcessed) feedItem('info', e.at, `${num(e.count)} more webhook events not shown`);
  });
  // Events were lost while this tab was slow: take a fresh picture.
  es.addEventListener('dropped', () => void poll());
  // Snapshots arrive every 2 s; without them (a proxy buffering the stream), poll.
  setInterval(() => {
    if (Date.now() - state.lastSnapshotAt > 7000) {
      setLive('polling', 'polling');
      void poll();
    }
  }, 5000);
}

// Relative times move on their own.
setInterval(() => {
  for (const node of document.querySelectorAll('[data-since]')) node.textContent = `since ${ago(Number(node.dataset.since))}`;
  for (const node of document.querySelectorAll('[data-until]')) node.textContent = `${node.dataset.prefix}${until(Number(node.dataset.until))}`;
}, 1000);

$('feed-all').addEventListener('change', (ev) => {
  state.showProcessed = ev.currentTarget.checked;
});
initLookup();
initDeadLetters();
void poll();
connect();
