// One card per dependency actor, coloured by breaker state.
import { $, h } from './dom.js';
import { ACTIVITY_LABEL, ago, dec, num, rate, STATE_LABEL, until } from './format.js';

function card(d) {
  const open = d.state === 'open';
  const tokens = Object.entries(d.tokens)
    .map(([k, v]) => (k === 'calls' ? dec(v) : `${k} ${num(v)}`))
    .join(' · ');
  const foot = [h('span', {}, `rate ${rate(d.limits.rate)}/s · burst ${d.limits.burst} · ${d.limits.concurrency} at once`), h('span', {}, `tokens ${tokens || '–'}`)];
  if (d.nextProbeAt) foot.push(h('span', { class: 'strong', 'data-until': d.nextProbeAt, 'data-prefix': 'next probe ' }, `next probe ${until(d.nextProbeAt)}`));
  if (d.pausedUntil) foot.push(h('span', { class: 'strong', 'data-until': d.pausedUntil, 'data-prefix': 'Retry-After ends ' }, `Retry-After ends ${until(d.pausedUntil)}`));
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

/** The header's one-line verdict: NATS down, a dependency down or recovering, or all well. */
export function renderOverall(actors, stats) {
  const el = $('overall');
  const deps = [...actors.values()];
  const open = deps.filter((d) => d.state === 'open');
  const half = deps.filter((d) => d.state === 'halfOpen');
  const nats = stats && stats.nats;
  let level = 'ok';
  let text = 'All systems normal';
  if (nats && !nats.ready) {
    level = 'bad';
    text = `NATS: ${nats.reason}`;
  } else if (open.length > 0) {
    level = 'bad';
    text = `${open.map((d) => d.name).join(', ')} ${open.length === 1 ? 'is' : 'are'} down`;
  } else if (half.length > 0) {
    level = 'warn';
    text = `${half.map((d) => d.name).join(', ')} recovering`;
  } else if (!stats) {
    level = 'unknown';
    text = 'Connecting…';
  }
  el.dataset.level = level;
  el.textContent = text;
  document.title = `${level === 'bad' ? '● ' : ''}webhook-relay · status`;
}
