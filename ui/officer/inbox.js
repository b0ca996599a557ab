// The inbox: one tab per state with its count, filters, the clues nearest deadline first with
// their working-day countdowns, unread messages and supervision marks, and paging.
import { apiJson } from './session.js';
import { el, fill, countdown, cnDate, STATES, CHANNELS, errorLine } from './dom.js';
import { supervisionBanner } from './supervision.js';

export async function renderInbox(view, params) {
  const state = params.get('state') || 'received';
  const query = new URLSearchParams();
  query.set('state', state);
  for (const k of ['category', 'division', 'channel', 'from', 'to', 'overdue', 'cursor', 'bureau']) {
    if (params.get(k)) query.set(k, params.get(k));
  }
  view.replaceChildren(el('h1', {}, '线索办理'), el('p', { class: 'hint' }, '正在加载…'));
  let page;
  try {
    page = await apiJson(`/api/officer/inbox?${query}`);
  } catch (e) {
    view.replaceChildren(el('h1', {}, '线索办理'), errorLine(e));
    return;
  }
  const link = (changes) => {
    const q = new URLSearchParams(query);
    q.delete('cursor');
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === '') q.delete(k); else q.set(k, v);
    }
    return `#/inbox?${q}`;
  };
  const tabs = el('nav', { class: 'tabs', 'aria-label': '按状态' },
    STATES.map(([code, label]) => el('a', {
      href: link({ state: code }),
      class: code === state ? 'tab active' : 'tab',
      'data-state': code,
    }, `${label}（${page.counts?.[code] ?? 0}）`)));

  const filters = el('form', { class: 'filters', onsubmit: (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    window.location.hash = link({
      division: f.get('division'), channel: f.get('channel'), from: f.get('from'),
      to: f.get('to'), overdue: f.get('overdue') ? 'true' : null,
    });
  } },
    el('label', {}, '行政区划代码', el('input', { name: 'division', value: params.get('division') || '', pattern: '[0-9]{6}', placeholder: '如 330106' })),
    el('label', {}, '渠道', el('select', { name: 'channel' },
      el('option', { value: '' }, '全部'),
      Object.entries(CHANNELS).map(([v, l]) => el('option', { value: v, selected: params.get('channel') === v }, l)))),
    el('label', {}, '接收日期自', el('input', { type: 'date', name: 'from', value: params.get('from') || '' })),
    el('label', {}, '至', el('input', { type: 'date', name: 'to', value: params.get('to') || '' })),
    el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'overdue', checked: params.get('overdue') === 'true' }), '仅看超期'),
    el('button', { type: 'submit' }, '筛选'));

  const rows = page.items.map((c) => el('tr', { class: c.overdue ? 'overdue' : '', 'data-clue': c.id },
    el('td', {}, el('a', { href: `#/clue/${encodeURIComponent(c.id)}` }, c.clue_no)),
    el('td', {}, c.address, el('div', { class: 'hint' }, c.division)),
    el('td', {}, c.subject || '—'),
    el('td', {}, cnDate(c.received_on)),
    el('td', {}, c.state_label),
    el('td', {}, c.next_deadline ? [c.next_deadline.label, ' ', countdown(c.next_deadline)] : '—'),
    el('td', {},
      c.supervision ? el('span', { class: 'badge warn' }, `督办 ${cnDate(c.supervision.due_on)} 前答复`) : null,
      c.unread_messages ? el('span', { class: 'badge' }, `未读留言 ${c.unread_messages}`) : null)));
  const table = page.items.length
    ? el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, ['线索编号', '违法行为发生地', '违法主体', '接收日期', '状态', '期限', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows))
    : el('p', { class: 'hint' }, '没有线索。');
  const more = page.next_cursor
    ? el('p', {}, el('a', { href: `#/inbox?${new URLSearchParams({ ...Object.fromEntries(query), cursor: page.next_cursor })}` }, '下一页'))
    : null;
  const banner = await supervisionBanner();
  fill(view, el('h1', {}, '线索办理'), banner, tabs, filters, table, more);
}
