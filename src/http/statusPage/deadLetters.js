// Recent dead letters with replay and delete; the admin token stays in this tab (sessionStorage).
import { $, h } from './dom.js';
import { ago } from './format.js';
import { webhookRef } from './lookup.js';
import { TOKEN_KEY } from './adminToken.js';

let token = sessionStorage.getItem(TOKEN_KEY) || '';
let loading;
let streamState;

function showTokenForm(error) {
  $('token-form').hidden = false;
  $('dl-panel').hidden = true;
  const err = $('token-error');
  err.hidden = !error;
  err.textContent = error || '';
}

function forgetToken(error) {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  showTokenForm(error);
}

function message(text, level) {
  const el = $('dl-message');
  el.hidden = !text;
  el.textContent = text || '';
  el.className = `message ${level || ''}`;
}

async function admin(method, path) {
  const res = await fetch(path, { method, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) {
    forgetToken((body.error && body.error.message) || 'the token was refused');
    throw new Error('unauthorized');
  }
  if (!res.ok) throw new Error((body.error && `${body.error.code}: ${body.error.message}`) || `${res.status}`);
  return body;
}

/** Runs an admin action from a button, then shows its outcome and the fresh list. */
async function act(button, label, run) {
  const row = button.closest('li');
  const buttons = row ? [...row.querySelectorAll('button')] : [button];
  for (const b of buttons) b.disabled = true;
  try {
    message(await run(), 'ok');
  } catch (e) {
    if (e.message !== 'unauthorized') message(`${label} failed: ${e.message}`, 'bad');
  } finally {
    for (const b of buttons) b.disabled = false;
    await refreshDeadLetters();
  }
}

/** Delete asks once more on the same button before it acts. */
function deleteButton(item) {
  const b = h('button', { type: 'button', class: 'danger', 'data-action': 'delete' }, 'Delete');
  let armed;
  b.addEventListener('click', () => {
    if (!armed) {
      b.classList.add('confirm');
      b.textContent = 'Sure?';
      armed = setTimeout(() => {
        armed = undefined;
        b.classList.remove('confirm');
        b.textContent = 'Delete';
      }, 4000);
      return;
    }
    clearTimeout(armed);
    void act(b, 'Delete', async () => {
      await admin('DELETE', `/dead-letters/${item.seq}`);
      return `Dead letter ${item.seq} deleted.`;
    });
  });
  return b;
}

function row(item) {
  const replay = h('button', { type: 'button', class: 'primary', 'data-action': 'replay' }, 'Replay');
  replay.addEventListener('click', () =>
    act(replay, 'Replay', async () => {
      const r = await admin('POST', `/dead-letters/${item.seq}/replay`);
      return `Replayed ${item.source}/${item.id || item.seq} as sequence ${r.replayedAs}.`;
    }),
  );
  const deliveries = `${item.deliveries} ${item.deliveries === 1 ? 'delivery' : 'deliveries'}`;
  return h(
    'li',
    { class: 'dl', 'data-seq': item.seq },
    h('div', { class: 'dl-title', title: item.id || '' }, item.id ? webhookRef(item.source, item.id) : `${item.source}/seq ${item.originalSeq}`),
    h('div', { class: 'dl-meta' }, `#${item.seq} · ${item.reason} · ${deliveries} · ${item.failedAt ? ago(Date.parse(item.failedAt)) : ''}`),
    h('div', { class: 'dl-error' }, item.lastError || ''),
    h('div', { class: 'dl-actions' }, replay, deleteButton(item)),
  );
}

/** Lists the newest dead letters (needs the token; asks for it otherwise). */
function refreshDeadLetters() {
  if (!token) {
    showTokenForm();
    return Promise.resolve();
  }
  loading ??= (async () => {
    const asked = token;
    try {
      // Newest first: start near the end of the stream, or at the start when that finds too few.
      const recentFrom = streamState ? Math.max(0, streamState.lastSeq - 50) : 0;
      let page = await admin('GET', `/dead-letters?limit=50${recentFrom > 0 ? `&after=${recentFrom}` : ''}`);
      if (recentFrom > 0 && page.items.length < Math.min(10, streamState.messages)) page = await admin('GET', '/dead-letters?limit=50');
      // The token was forgotten (or replaced) while the list was on its way: its answer must not hide the form again.
      if (token !== asked) return;
      $('token-form').hidden = true;
      $('dl-panel').hidden = false;
      const items = page.items.slice().reverse();
      $('dl-list').replaceChildren(...(items.length > 0 ? items.map(row) : [h('li', { class: 'empty' }, 'The dead-letter queue is empty.')]));
    } catch (e) {
      if (e.message !== 'unauthorized') message(`Could not list dead letters: ${e.message}`, 'bad');
    } finally {
      loading = undefined;
    }
  })();
  return loading;
}

/** Follows the size of DEAD_LETTERS (from /stats); the list reloads when it changes. */
export function onDeadLetterStream(state) {
  const count = state ? state.messages : 0;
  const badge = $('dl-count');
  badge.textContent = String(count);
  badge.classList.toggle('alert', count > 0);
  const changed = !streamState || !state || streamState.messages !== state.messages || streamState.lastSeq !== state.lastSeq;
  streamState = state || undefined;
  if (changed && token) void refreshDeadLetters();
}

/** Wires the token form and the toolbar. */
export function initDeadLetters() {
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = $('token-input').value.trim();
    if (!value) return;
    token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token-input').value = '';
    $('token-error').hidden = true;
    void refreshDeadLetters();
  });
  $('token-forget').addEventListener('click', () => forgetToken());
  $('dl-refresh').addEventListener('click', () => {
    message('');
    void refreshDeadLetters();
  });
  $('dl-replay-all').addEventListener('click', (ev) =>
    act(ev.currentTarget, 'Replay all', async () => {
      const r = await admin('POST', '/dead-letters/replay');
      return `Replayed ${r.replayed}${r.failed.length ? `, ${r.failed.length} failed` : ''}.`;
    }),
  );
  if (!token) showTokenForm();
}
