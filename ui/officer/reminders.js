// Reminders (the target of the WeChat reminder link), the WeChat binding, the overdue entries
// of the territory (supervising bureaus), the territory's surge review list and the calendar
// warning for admins.
import { api, apiJson } from './session.js';
import { el, fill, cnDate, cnTime, errorLine } from './dom.js';

export async function renderReminders(view, params) {
  view.replaceChildren(el('h1', {}, '提醒'), el('p', { class: 'hint' }, '正在加载…'));
  const q = new URLSearchParams();
  if (params.get('cursor')) q.set('cursor', params.get('cursor'));
  let page;
  try {
    page = await apiJson(`/api/officer/reminders?${q}`);
  } catch (e) {
    view.replaceChildren(el('h1', {}, '提醒'), errorLine(e));
    return;
  }
  const items = page.items.map((r) => el('li', { class: r.read ? 'read' : 'unread', 'data-reminder': r.id },
    el('span', { class: 'badge' }, r.kind_label), ' ',
    el('a', { href: `#/clue/${encodeURIComponent(r.clue_id)}` }, r.clue_no), ' ', r.text,
    el('span', { class: 'hint' }, ` ${cnTime(r.created_at)}`),
    r.read
      ? el('span', { class: 'hint' }, `（已读${r.read_by ? `，${r.read_by}` : ''}）`)
      : el('button', { type: 'button', class: 'secondary', onclick: async (ev) => {
        ev.target.disabled = true;
        await api(`/api/officer/reminders/${encodeURIComponent(r.id)}/read`, { method: 'POST' });
        renderReminders(view, params);
      } }, '标记已读')));
  fill(view,
    el('h1', {}, `提醒（未读 ${page.unread}）`),
    items.length ? el('ul', { class: 'reminders' }, items) : el('p', { class: 'hint' }, '暂无提醒'),
    page.next ? el('p', {}, el('a', { href: `#/reminders?cursor=${encodeURIComponent(page.next)}` }, '下一页')) : null);
}

/** `#/reminder/<id>`: the WeChat link's target, one reminder, then its clue. */
export async function renderReminder(view, id) {
  try {
    const r = await apiJson(`/api/officer/reminders/${encodeURIComponent(id)}`);
    window.location.hash = `#/clue/${encodeURIComponent(r.clue_id)}`;
  } catch (e) {
    view.replaceChildren(el('h1', {}, '提醒'), errorLine(e));
  }
}

export async function renderBinding(view) {
  view.replaceChildren(el('h1', {}, '绑定微信'), el('p', { class: 'hint' }, '正在加载…'));
  let b;
  try {
    b = await apiJson('/api/officer/wechat-binding');
  } catch (e) {
    view.replaceChildren(el('h1', {}, '绑定微信'), errorLine(e));
    return;
  }
  const out = el('div', {});
  const issue = el('button', { type: 'button', onclick: async () => {
    try {
      const c = await apiJson('/api/officer/wechat-binding', { method: 'POST' });
      out.replaceChildren(el('p', {}, c.instructions), el('p', { class: 'code' }, c.command));
    } catch (e) {
      out.replaceChildren(errorLine(e));
    }
  } }, b.bound ? '换绑微信' : '获取绑定码');
  const unbind = b.bound ? el('button', { type: 'button', class: 'secondary', onclick: async () => {
    await apiJson('/api/officer/wechat-binding', { method: 'DELETE' }).catch(() => null);
    renderBinding(view);
  } }, '解除绑定') : null;
  view.replaceChildren(el('h1', {}, '绑定微信'),
    el('p', {}, b.bound ? `已绑定微信 ${b.openid_masked}（${cnTime(b.bound_at)}），到期与逾期提醒将同时推送到微信。` : '未绑定微信：提醒只在办理系统中显示。'),
    el('div', { class: 'buttons' }, issue, unbind), out);
}

export async function renderOverdue(view, params) {
  view.replaceChildren(el('h1', {}, '辖区逾期'), el('p', { class: 'hint' }, '正在加载…'));
  const q = new URLSearchParams();
  if (params.get('cursor')) q.set('cursor', params.get('cursor'));
  try {
    const page = await apiJson(`/api/officer/overdue?${q}`);
    view.replaceChildren(el('h1', {}, '辖区逾期'),
      page.items.length
        ? el('table', { class: 'list' },
          el('thead', {}, el('tr', {}, ['线索编号', '期限', '办理机关', '到期', '记录时间'].map((h) => el('th', {}, h)))),
          el('tbody', {}, page.items.map((o) => el('tr', { class: 'overdue' },
            el('td', {}, el('a', { href: `#/clue/${encodeURIComponent(o.clue_id)}` }, o.clue_no)),
            el('td', {}, o.kind_label), el('td', {}, o.bureau), el('td', {}, cnDate(o.due)), el('td', {}, cnTime(o.recorded_at))))))
        : el('p', { class: 'hint' }, '辖区内没有逾期线索'),
      page.next ? el('p', {}, el('a', { href: `#/overdue?cursor=${encodeURIComponent(page.next)}` }, '下一页')) : null);
  } catch (e) {
    view.replaceChildren(el('h1', {}, '辖区逾期'), errorLine(e));
  }
}

/**
 * The surge review list: clues filed while their county received more new clues within an hour
 * than the surge line. They were filed, never refused; the bureau checks them for a
 * coordinated flood (issue 16).
 */
export async function renderSurge(view, params) {
  const title = '集中举报复核';
  view.replaceChildren(el('h1', {}, title), el('p', { class: 'hint' }, '正在加载…'));
  const q = new URLSearchParams();
  if (params.get('cursor')) q.set('cursor', params.get('cursor'));
  try {
    const page = await apiJson(`/api/officer/surge?${q}`);
    view.replaceChildren(el('h1', {}, title),
      el('p', { class: 'hint' }, '以下线索提交时，所在县（市、区）一小时内的举报量超过了集中举报阈值。线索均已正常受理，请复核是否存在恶意集中举报。'),
      page.items.length
        ? el('table', { class: 'list' },
          el('thead', {}, el('tr', {}, ['线索编号', '行政区划', '标记时间'].map((h) => el('th', {}, h)))),
          el('tbody', {}, page.items.map((m) => el('tr', {},
            el('td', {}, el('a', { href: `#/clue/${encodeURIComponent(m.clue_id)}` }, m.clue_no)),
            el('td', {}, m.division), el('td', {}, cnTime(m.marked_at))))))
        : el('p', { class: 'hint' }, '辖区内没有需要复核的集中举报'),
      page.next ? el('p', {}, el('a', { href: `#/surge?cursor=${encodeURIComponent(page.next)}` }, '下一页')) : null);
  } catch (e) {
    view.replaceChildren(el('h1', {}, title), errorLine(e));
  }
}

/** The admins' banner while next year has no working-day data (from 1 November). */
export async function calendarBanner(me) {
  if (!(me.roles || []).includes('admin')) return null;
  const c = await apiJson('/api/officer/calendar').catch(() => null);
  return c && c.warning ? el('p', { class: 'banner', role: 'alert' }, c.warning) : null;
}
