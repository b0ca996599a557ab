// The console's page shell: signs in (refresh cookie) or goes to the sign-in page, shows who
// is signed in, and offers sign-out. The inbox and clue pages render into #view through
// `api()` of session.js.
import { apiJson, requireSignIn, signOut } from './session.js';

const ROLE_NAMES = { handler: '承办人', leader: '负责人', supervisor: '督办', admin: '管理员' };

document.getElementById('sign-out').addEventListener('click', () => signOut());

async function start() {
  await requireSignIn();
  const view = document.getElementById('view');
  try {
    const me = await apiJson('/api/officer/me');
    const roles = (me.roles || []).map((r) => ROLE_NAMES[r] || r).join('、');
    document.getElementById('who').textContent = `${me.bureau_name || me.bureau_id || ''} ${roles}`;
    view.replaceChildren();
    const h = document.createElement('h1');
    h.textContent = '工作台';
    const p = document.createElement('p');
    p.textContent = `未读提醒 ${me.unread_reminders ?? 0} 条`;
    view.append(h, p);
  } catch (e) {
    view.replaceChildren();
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = e.message;
    view.append(p);
  }
}

start();
