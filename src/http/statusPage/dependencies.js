// One card per dependency actor, coloured by breaker state.
import { $, h } from './dom.js';
import { ACTIVITY_LABEL, ago, dec, num, rate, STATE_LABEL, until } from './format.js';

/**
 * One rate-limit bucket as "what it is: free now / capacity": `calls` is the
 * request bucket (one token per call), any other is a budget such as OpenAI's
 * tokens per minute.
 */
function bucket(name, level, capacity) {
  const label = name === 'calls' ? 'requests free' : `${name} budget free`;
  const value = name === 'calls' ? dec(level) : num(level);
  const of = capacity === undefined ? '' : ` / ${num(capacity)}`;
  return h('span', { 'data-bucket': name, title: name === 'calls' ? 'calls that may start now without waiting, of the burst' : `${name} left in the budget now, of its capacity` }, `${label} ${value}${of}`);
}

function card(d) {
  const open = d.state === 'open';
  const foot = [
    h('span', {}, `rate ${rate(d.limits.rate)}/s · burst ${d.limits.burst} · ${d.limits.concurrency} at once`),
    ...Object.entries(d.tokens).map(([k, v]) => bucket(k, v, (d.tokenCapacity || {})[k])),
  ];
  if (d.nextProbeAt) foot.push(h('span', { class: 'strong', 'data-until': d.nextProbeAt, 'data-prefix': 'next probe ' }, `next probe ${until(d.nextProbeAt)}`));
  if (d.pausedUntil) foot.push(h('span', { class: 'strong', 'data-until': d.pausedUntil, 'data-prefix': 'Retry-After ends ' }, `Retry-After ends ${until(d.pausedUntil)}`));
  if (d.instance) foot.push(h('span', { title: d.owner ? `owner since ${d.owner.since}` : 'this instance runs its own' }, `on ${d.instance}`));
  if (d.restarts > 0) foot.push(h('span', { class: 'strong' }, `${d.restarts} restart${d.restarts === 1 ? '' : 's'}`));
  const cell = (value, label, bad) => h('span', { class: bad ? 'num bad' : 'num' }, h('b', {}, num(value)), ` ${label}`);
  return h(
    'article',
    { class: 'dep', 'data-dep': d.name, 'data-state': d.state, 'aria-label': `${d.name}: ${STATE_LABEL[d.state]}` },
    h('div', { class: 'dep-head' }, h('span', { class: 'dep-name' }, d.name), h('span', { class: `badge ${d.state}` }, STATE_LABEL[d.state])),
    h('div', { class: 'dep-since' }, `${ACTIVITY_LABEL[d.activity] || d.activity} · `, h('span', { 'data-since': d.since }, `since ${ago(d.since)}`)),
    h('div', { class: 'dep-reason', title: d.reason }, d.reason || '–'),
    h(
      'div',
      { class: 'dep-nums' },
      h('div', { title: 'calls waiting in the mailbox, and running' }, cell(d.queueLength, 'queued', open && d.queueLength > 0), cell(d.inFlight, 'in flight')),
      h(
        'div',
        { title: 'calls that succeeded, failed, or were refused without being sent' },
        cell(d.counters.ok, 'ok'),
        cell(d.counters.failed, 'failed', d.counters.failed > 0),
        cell(d.counters.rejected, 'rejected'),
      ),
    ),
    h('div', { class: 'dep-foot' }, foot),
  );
}

/** Draws every dependency card, sorted by name. */
export function renderDependencies(actors) {
  const deps = [...actors.values()].sort((a, b) => a.name.localeCompare(b.name));
  $('deps').replaceChildren(...(deps.length > 0 ? deps.map(card) : [h('p', { class: 'empty' }, 'No dependency actors run in this service.')]));
}

/**
 * What needs an operator's eye, worst first: NATS down, breakers open, dead
 * letters waiting, breakers recovering, retries and refusals in the last minutes.
 */
function problems(actors, stats) {
  const deps = [...actors.values()];
  const names = (list) => list.map((d) => d.name).join(', ');
  const open = deps.filter((d) => d.state === 'open');
  const half = deps.filter((d) => d.state === 'halfOpen');
  const out = [];
  if (stats && stats.nats && !stats.nats.ready) out.push({ level: 'bad', text: `NATS: ${stats.nats.reason}` });
  if (open.length > 0) out.push({ level: 'bad', text: `${names(open)} ${open.length === 1 ? 'is' : 'are'} down` });
  const waiting = stats && stats.deadLetters ? stats.deadLetters.messages : 0;
  if (waiting > 0) out.push({ level: 'bad', text: `${num(waiting)} dead ${waiting === 1 ? 'letter' : 'letters'} waiting` });
  if (half.length > 0) out.push({ level: 'warn', text: `${names(half)} recovering` });
  const silent = (stats && stats.covers && stats.covers.unanswered) || [];
  if (silent.length > 0) {
    const who = silent.map((p) => `${p.instance} (pid ${p.pid})`).join(', ');
    out.push({ level: 'warn', text: `${silent.length} process${silent.length === 1 ? '' : 'es'} did not answer; totals leave out ${who}` });
  }
  const recent = stats && stats.recentWindow;
  if (recent) {
    const minutes = `in the last ${Math.round(recent.seconds / 60)} min`;
    if (recent.retried > 0) out.push({ level: 'warn', text: `${num(recent.retried)} ${recent.retried === 1 ? 'delivery' : 'deliveries'} retried ${minutes}` });
    if (recent.refused > 0) out.push({ level: 'warn', text: `${num(recent.refused)} ${recent.refused === 1 ? 'webhook' : 'webhooks'} refused ${minutes}` });
  }
  return out;
}

/** The header's verdict: one line per problem, coloured by the worst; "All systems normal" when there is none. */
export function renderOverall(actors, stats) {
  const el = $('overall');
  const found = problems(actors, stats);
  let level = found.some((p) => p.level === 'bad') ? 'bad' : found.length > 0 ? 'warn' : 'ok';
  if (!stats && found.length === 0) level = 'unknown';
  el.dataset.level = level;
  if (level === 'unknown') el.replaceChildren('Connecting…');
  else if (found.length === 0) el.replaceChildren('All systems normal');
  else el.replaceChildren(...found.map((p) => h('span', { class: 'problem', 'data-level': p.level }, p.text)));
  document.title = `${level === 'bad' ? '● ' : level === 'warn' ? '◐ ' : ''}webhook-relay · status`;
}
