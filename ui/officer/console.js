// The console's page shell: signs in (refresh cookie) or goes to the sign-in page, shows who
// is signed in with their unread reminders, offers sign-out, and routes `#/…` to the pages:
// the inbox, a clue, reminders (the WeChat link's target), the WeChat binding, the
// territory's overdue list, its surge review list, its statistics and the 通报 bulletins.
import { apiJson, requireSignIn, signOut } from './session.js';
import { el, errorLine } from './dom.js';
import { renderInbox } from './inbox.js';
import { renderClue } from './clue.js';
import { renderReminders, renderReminder, renderBinding, renderOverdue, renderSurge, calendarBanner } from './reminders.js';
import { renderAdmin } from './admin.js';
import { renderSupervisions } from './supervision.js';
import { renderScope } from './scope.js';
import { renderBulletins, renderBulletin } from './bulletins.js';
import { renderStatistics } from './stats.js';

const ROLE_NAMES = { handler: '承办人', leader: '负责人', supervisor: '督办', admin: '管理员' };

document.getElementById('sign-out').addEventListener('click', () => signOut());

let me = null;

async function header() {
  me = await apiJson('/api/officer/me');
  const roles = (me.roles || []).map((r) => ROLE_NAMES[r] || r).join('、');
  document.getElementById('who').textContent = `${me.bureau_name || me.bureau_id || ''} ${roles}`;
  const links = [
    ['#/inbox', '线索办理'],
    ['#/reminders', `提醒${me.unread_reminders ? `（${me.unread_reminders}）` : ''}`],
    ['#/binding', '绑定微信'],
    ['#/supervisions', '督办'],
  ];
  if (me.bureau_level !== 'ministry') links.push(['#/scope', '接收范围']);
  if (me.bureau_level !== 'county') links.push(['#/overdue', '辖区逾期']);
  links.push(['#/bulletins', '通报']);
  if (me.bureau_level !== 'ministry') links.push(['#/surge', '集中举报复核']);
  links.push(['#/statistics', '统计分析']);
  if ((me.roles || []).includes('admin')) links.push(['#/admin', '人员管理']);
  document.getElementById('nav').replaceChildren(...links.map(([href, label]) => el('a', { href }, label)));
  const banner = await calendarBanner(me);
  const slot = document.getElementById('banner');
  if (slot) slot.replaceChildren(...(banner ? [banner] : []));
}

async function route() {
  // Each navigation renders into a container of its own: a slower page still loading from an
  // earlier navigation then fills a detached container instead of replacing this one.
  const view = el('div', { class: 'page' });
  document.getElementById('view').replaceChildren(view);
  const hash = window.location.hash || '#/inbox';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    switch (parts[0]) {
      case 'clue': return await renderClue(view, parts[1]);
      // `#/reminders/<id>` is the WeChat reminder link's target (REMINDER_PAGE_URL).
      case 'reminders': return parts[1] ? await renderReminder(view, parts[1]) : await renderReminders(view, params);
      case 'binding': return await renderBinding(view);
      case 'overdue': return await renderOverdue(view, params);
      case 'surge': return await renderSurge(view, params);
      case 'admin': return await renderAdmin(view);
      case 'supervisions': return await renderSupervisions(view, params);
      case 'scope': return await renderScope(view);
      case 'bulletins': return parts[1] ? await renderBulletin(view, parts[1], me) : await renderBulletins(view, me);
      case 'statistics': return await renderStatistics(view, parts[1], params);
      default: return await renderInbox(view, params);
    }
  } catch (e) {
    view.replaceChildren(errorLine(e));
  }
}

async function start() {
  await requireSignIn();
  try {
    await header();
  } catch (e) {
    document.getElementById('view').replaceChildren(errorLine(e));
    return;
  }
  window.addEventListener('hashchange', route);
  await route();
}

start();
