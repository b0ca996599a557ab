// Small DOM helpers for the console pages: elements built with text nodes only (never
// innerHTML), so nothing a reporter wrote can become markup.

/** `el('a', {href: '#/x', class: 'y'}, 'text', child)` */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Replaces `node`'s children like `el` builds them (nested lists flattened; null, undefined and
 * false left out), which the DOM's own `replaceChildren` does not do. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
}

/** The countdown badge of a deadline as the console shows it. */
export function countdown(d) {
  if (!d) return el('span', { class: 'badge muted' }, '无期限');
  if (d.pending) return el('span', { class: 'badge warn' }, '期限待定（工作日历未覆盖）');
  if (d.status === 'met') {
    return el('span', { class: d.on_time ? 'badge ok' : 'badge late' }, d.on_time ? '按期完成' : '逾期完成');
  }
  if (d.status === 'discharged') return el('span', { class: 'badge muted' }, '已解除');
  const n = d.working_days_left;
  if (d.overdue || (typeof n === 'number' && n < 0)) {
    return el('span', { class: 'badge late' }, `已超期 ${Math.abs(n ?? 0)} 个工作日`);
  }
  if (n === 0) return el('span', { class: 'badge warn' }, '今日到期');
  return el('span', { class: n <= 1 ? 'badge warn' : 'badge' }, `剩余${n}个工作日`);
}

/** `2026-03-19` → `2026年3月19日` */
export function cnDate(iso) {
  if (!iso) return '';
  // An instant is shown as its Shanghai date; a plain date as it is.
  const day = String(iso).includes('T') ? cnTime(iso).slice(0, 10) : String(iso).slice(0, 10);
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** An instant in Shanghai time, `YYYY-MM-DD HH:MM`. */
export function cnTime(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  const s = new Date(t.getTime() + 8 * 3600 * 1000).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}

/** A fresh idempotency key for one button press. */
export function pressKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export const STATES = [
  ['received', '待判定'],
  ['escalated', '已提请上级'],
  ['accepted', '核查中'],
  ['closed', '已办结'],
  ['merged', '已合并办理'],
];

export const CHANNELS = { h5: 'H5表单', chat: '对话' };

/** An error line for a failed call (the API's Chinese message). */
export function errorLine(e) {
  return el('p', { class: 'error', role: 'alert' }, e.message || String(e));
}
