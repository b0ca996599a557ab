// The sign-in page: password and TOTP; on first sign-in the new password and the TOTP
// enrolment (QR code rendered by the server as SVG). The token is kept in memory by
// session.js; the next page gets its own from the refresh cookie.
import { keep } from './session.js';

const $ = (id) => document.getElementById(id);
const forms = ['sign-in', 'change-password', 'enrol-totp'];
let challenge = null;

function show(id) {
  for (const f of forms) $(f).hidden = f !== id;
  const first = $(id).querySelector('input');
  if (first) first.focus();
}

function say(text) {
  $('message').textContent = text || '';
  $('message').hidden = !text;
}

async function post(path, body) {
  const r = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((data.error && data.error.message) || `请求失败（${r.status}）`);
  return data;
}

function next(step) {
  if (step.access_token) {
    keep(step.access_token);
    const target = new URLSearchParams(window.location.search).get('next');
    // only a page of the console itself
    window.location.assign(target && target.startsWith('/officer/') ? target : 'index.html');
    return;
  }
  challenge = step.challenge || null;
  if (step.next === 'change_password') {
    say('');
    show('change-password');
  } else if (step.next === 'enrol_totp') {
    $('qr').src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(step.qr_svg)}`;
    $('secret').textContent = step.secret;
    say('');
    show('enrol-totp');
  } else {
    say('新密码已保存，请使用新密码和动态验证码登录。');
    show('sign-in');
  }
}

function handle(id, submit) {
  $(id).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = $(id).querySelector('button');
    button.disabled = true;
    try {
      next(await submit(new FormData($(id))));
    } catch (e) {
      say(e.message);
    } finally {
      button.disabled = false;
    }
  });
}

handle('sign-in', (f) => post('/auth/sign-in', {
  username: f.get('username'),
  password: f.get('password'),
  code: f.get('code') || null,
}));

handle('change-password', (f) => {
  if (f.get('new_password') !== f.get('repeat')) {
    return Promise.reject(new Error('两次输入的新密码不一致'));
  }
  return post('/auth/password', { challenge, new_password: f.get('new_password') });
});

handle('enrol-totp', (f) => post('/auth/totp', { challenge, code: f.get('code') }));

show('sign-in');
