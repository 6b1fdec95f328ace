// Building DOM nodes: text always goes in as text, never as HTML.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** An element with attributes (`on*` become listeners) and children (strings become text nodes). */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** An SVG element with attributes. */
export function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}

/** A definition-list entry (`dt` + `dd`) in a `div`. */
export function fact(label, value, alert) {
  return h('div', {}, h('dt', {}, label), h('dd', { class: alert ? 'alert' : '' }, value));
}
