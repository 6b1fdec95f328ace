// "Find a webhook": its status by source and delivery id; the stored result only with the admin token.
import { adminHeaders } from './adminToken.js';
import { $, h } from './dom.js';
import { ago, until } from './format.js';

function render(source, id, res, body) {
  const box = $('find-result');
  box.hidden = false;
  if (res.status === 404) {
    box.replaceChildren(h('p', { class: 'empty' }, `No webhook '${id}' is known for ${source}.`));
    return;
  }
  if (!res.ok) {
    box.replaceChildren(h('p', { class: 'error' }, (body.error && `${body.error.code}: ${body.error.message}`) || `Lookup failed (${res.status}).`));
    return;
  }
  const rows = [
    ['Sequence', body.seq],
    ['Deliveries', body.deliveries],
    ['Updated', body.updatedAt ? `${new Date(body.updatedAt).toLocaleString()} (${ago(Date.parse(body.updatedAt))})` : '–'],
  ];
  if (body.retryAt) rows.push(['Next attempt', until(body.retryAt)]);
  if (body.lastError) rows.push(['Last error', body.lastError.message ? `${body.lastError.code}: ${body.lastError.message}` : body.lastError.code]);
  if (body.deadLetter) rows.push(['Dead letter', body.deadLetter.subject]);
  if (body.result) rows.push(['Result', `${body.result.bucket} / ${body.result.key}`]);
  const value = body.result && body.result.value !== undefined ? JSON.stringify(body.result.value, null, 2) : '';
  // The service shows stored results (personal data) only to the admin token.
  const hidden = body.result && !value ? h('p', { class: 'note' }, 'Give the admin token (Dead letters) to see the stored result and error messages.') : null;
  box.replaceChildren(
    h('div', { class: 'line' }, h('span', { class: `badge ${body.status}` }, body.status), h('code', {}, `${source}/${id}`)),
    h('dl', {}, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
    value ? h('pre', {}, value.length > 4000 ? `${value.slice(0, 4000)}\n…` : value) : hidden,
  );
}

/** Looks a webhook up and shows its status. */
async function lookUp(source, id) {
  $('find-source').value = source;
  $('find-id').value = id;
  try {
    const res = await fetch(`/webhooks/${encodeURIComponent(source)}/${encodeURIComponent(id)}`, { cache: 'no-store', headers: adminHeaders() });
    render(source, id, res, await res.json().catch(() => ({})));
  } catch (e) {
    render(source, id, { ok: false, status: 0 }, { error: { code: 'NETWORK', message: e.message } });
  }
  $('find-result').scrollIntoView({ block: 'nearest' });
}

/** A webhook reference that looks the webhook up when clicked. */
export function webhookRef(source, id) {
  const open = (ev) => {
    ev.preventDefault();
    void lookUp(source, id);
  };
  return h('a', { href: '#find', class: 'ref', title: 'Look this webhook up', onclick: open }, h('code', {}, `${source}/${id}`));
}

/** Keeps the source list in step with the service's sources. */
export function setSources(names) {
  const select = $('find-source');
  if (select.options.length === names.length) return;
  const chosen = select.value;
  select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
  if (names.includes(chosen)) select.value = chosen;
}

/** Wires the search form. */
export function initLookup() {
  $('find-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const source = $('find-source').value;
    const id = $('find-id').value.trim();
    if (source && id) void lookUp(source, id);
  });
}
