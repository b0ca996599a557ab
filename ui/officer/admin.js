// The bureau admin page: the bureau's officers with their roles and status; create an officer
// (a temporary password shown once, changed at first sign-in), disable or enable, reset the
// second factor or the password. Every change is audited by the auth function.
import { apiJson } from './session.js';
import { el, errorLine } from './dom.js';

const ROLES = [['handler', '承办人'], ['leader', '负责人'], ['supervisor', '督办'], ['admin', '管理员']];

async function post(path, body) {
  return apiJson(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body || {}),
  });
}

export async function renderAdmin(view) {
  view.replaceChildren(el('h1', {}, '本机关人员管理'), el('p', { class: 'hint' }, '正在加载…'));
  let list;
  try {
    list = await apiJson('/api/officer/bureau/officers');
  } catch (e) {
    view.replaceChildren(el('h1', {}, '本机关人员管理'), errorLine(e));
    return;
  }
  const out = el('div', { id: 'admin-result' });
  const show = (...nodes) => out.replaceChildren(...nodes);
  const act = (id, action, label) => el('button', { type: 'button', class: 'secondary', 'data-action': action, onclick: async () => {
    try {
      const r = await post(`/auth/admin/officers/${encodeURIComponent(id)}/${action}`);
      await renderAdmin(view);
      document.getElementById('admin-result').replaceChildren(el('p', { class: 'flash' },
        r.temporary_password ? `${label}完成，临时密码：${r.temporary_password}（仅显示一次）` : `${label}完成`));
    } catch (e) {
      show(errorLine(e));
    }
  } }, label);
  const rows = list.items.map((o) => el('tr', { 'data-officer': o.id },
    el('td', {}, o.id),
    el('td', {}, o.roles.map((r) => (ROLES.find(([k]) => k === r) || [r, r])[1]).join('、')),
    el('td', { class: 'status' }, o.active ? '在职' : '已停用'),
    el('td', {}, o.active ? act(o.id, 'disable', '停用') : act(o.id, 'enable', '启用'), ' ',
      act(o.id, 'reset-totp', '重置动态验证码'), ' ', act(o.id, 'reset-password', '重置密码'))));
  const create = el('form', { id: 'new-officer', class: 'card', onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      const r = await post('/auth/admin/officers', { username: f.get('username'), roles: f.getAll('roles') });
      await renderAdmin(view);
      document.getElementById('admin-result').replaceChildren(el('p', { class: 'flash' },
        `已创建 ${r.username}（${r.id}），临时密码：${r.temporary_password}（仅显示一次，首次登录须修改并绑定动态验证码）`));
    } catch (e) {
      show(errorLine(e));
    }
  } },
    el('h2', {}, '新增人员'),
    el('label', {}, '用户名', el('input', { name: 'username', required: true, pattern: '[a-z0-9-]{3,32}' })),
    el('fieldset', {}, el('legend', {}, '角色'),
      ROLES.map(([v, l]) => el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'roles', value: v }), l))),
    el('button', { type: 'submit' }, '创建'));
  view.replaceChildren(el('h1', {}, '本机关人员管理'), out,
    el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, ['人员', '角色', '状态', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows)),
    create);
}
