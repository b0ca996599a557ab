// One clue: facts, evidence (re-hashed on the server before a link is given), the masked
// identity and the audited reveal, deadlines, duplicate/merge candidates side by side, messages,
// notices with their delivery, the verified timeline, and one form per action the rules allow
// this officer now. Every form previews the exact notice text before it is sent.
import { api, apiJson } from './session.js';
import { el, fill, countdown, cnDate, cnTime, pressKey, CHANNELS, errorLine } from './dom.js';
import { supervisionSection } from './supervision.js';

const ACTION_LABELS = {
  judge: '判定', escalate: '逐级提请上级', designate: '指定管辖', merge: '合并办理',
  unmerge: '取消合并', verify: '录入核查结果', transfer: '移交执法部门', messages: '回复举报人',
  'messages-read': '标记留言已读', recuse: '申请回避', assign: '指派承办人',
  reveal: '查看举报人身份', supervise: '督办', block: '限制举报人', unblock: '解除限制',
  'supervision-answer': '答复督办（报告办理进展）', 'supervision-close': '结束督办',
};

const EVENT_LABELS = {
  received: '接收线索', deadline_opened: '期限开始', deadline_closed: '期限结束',
  deadline_resolved: '期限确定', deadline_missed: '期限逾期', judged: '判定', escalated: '逐级提请',
  designated: '指定管辖', merged_into: '合并到主线索', merge_joined: '并入线索', unmerged: '取消合并',
  merge_left: '移出合并', verification_recorded: '录入核查结果', transferred: '移交',
  message_posted: '留言', recused: '回避', assigned: '指派', supervision_opened: '督办',
  resubmitted: '补充材料重新提交', notice_owed: '告知', notice_delivery: '告知送达',
  identity_revealed: '查看举报人身份', messages_read: '已读留言', deadline_moved: '期限调整',
  supervision_answered: '答复督办', supervision_closed: '督办结束',
};

const DELIVERY = { queued: '待发送', sent: '已送达', failed: '发送失败，重试中', undeliverable: '无法送达' };

function section(title, ...body) {
  return el('section', { class: 'card' }, el('h2', {}, title), ...body);
}

function field(label, input) {
  return el('label', {}, label, input);
}

function textarea(name, placeholder, required = true) {
  return el('textarea', { name, rows: 2, placeholder, required });
}

/** The inputs of each action's form. */
function inputs(action, clue, officers) {
  const dupes = clue.candidates.filter((c) => c.kind === 'duplicate');
  const merges = clue.candidates.filter((c) => c.kind === 'merge');
  switch (action) {
    case 'judge':
      return [
        field('判定结果', el('select', { name: 'outcome' },
          el('option', { value: 'accept' }, '属于接收范围且本级管辖（受理）'),
          el('option', { value: 'out_of_scope' }, '不属于接收范围'),
          el('option', { value: 'duplicate' }, '重复举报'),
          el('option', { value: 'need_material' }, '需补充材料'))),
        field('有权处理部门（不属于接收范围时，可不填）', el('input', { name: 'department' })),
        field('排除情形（可不选）', el('select', { name: 'exclusion' },
          el('option', { value: '' }, '—'),
          el('option', { value: 'legal_proceedings' }, '应通过复议、诉讼、仲裁解决'),
          el('option', { value: 'official_misconduct' }, '检举控告工作人员'),
          el('option', { value: 'ownership_dispute' }, '权属争议、补偿分配等'),
          el('option', { value: 'state_secrets' }, '涉及国家秘密'),
          el('option', { value: 'not_land_duty' }, '不属于国土资源主管部门职责'))),
        field('重复举报的前一线索', dupes.length
          ? el('select', { name: 'earlier_clue_id' }, el('option', { value: '' }, '—'),
            dupes.map((c) => el('option', { value: c.clue_id }, `${c.clue_no}（${cnDate(c.received_on)}）`)))
          : el('input', { name: 'earlier_clue_id', placeholder: '线索标识' })),
        el('fieldset', {}, el('legend', {}, '需补充的材料'),
          el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'missing', value: 'location' }), '违法行为发生地'),
          el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: 'missing', value: 'facts' }), '主要违法事实')),
        field('备注（可不填）', textarea('note', '', false)),
      ];
    case 'escalate':
    case 'recuse':
    case 'unmerge':
    case 'block':
    case 'unblock':
    case 'reveal':
      return [field('理由', textarea('reason', '请填写理由'))];
    case 'designate':
      return [
        field('指定办理机关（机关标识）', el('input', { name: 'to', required: true, placeholder: '如 land-330110' })),
        field('说明（可不填）', textarea('reason', '', false)),
      ];
    case 'merge':
      return [
        field('主线索', merges.length
          ? el('select', { name: 'primary_clue_id', required: true },
            merges.map((c) => el('option', { value: c.clue_id }, `${c.clue_no}（相似度 ${Math.round(c.score * 100)}%）`)))
          : el('input', { name: 'primary_clue_id', required: true, placeholder: '线索标识' })),
        field('理由', textarea('reason', '为何属于同一违法行为')),
      ];
    case 'verify':
      return [
        field('核查结果', el('select', { name: 'result' },
          el('option', { value: 'no_violation' }, '不存在国土资源违法行为'),
          el('option', { value: 'violation_found' }, '存在国土资源违法行为'))),
        field('核查结束日期', el('input', { type: 'date', name: 'ended_on', required: true })),
        field('备注（可不填）', textarea('note', '', false)),
      ];
    case 'transfer':
      return [
        field('移交方式', el('select', { name: 'mode' },
          el('option', { value: 'off_platform' }, '平台外移交（本机关仍负责告知）'),
          el('option', { value: 'on_platform' }, '移交平台上的执法部门'))),
        field('平台上的执法部门（机关标识）', el('input', { name: 'to' })),
        field('接收部门全称（平台外）', el('input', { name: 'department' })),
        field('移交日期（平台外）', el('input', { type: 'date', name: 'handed_over_on' })),
        field('备注（可不填）', textarea('note', '', false)),
      ];
    case 'messages':
      return [field('回复内容', textarea('text', '将发送给举报人'))];
    case 'assign':
      return [field('承办人', el('select', { name: 'officer_id' },
        officers.map((o) => el('option', { value: o.id }, o.id))))];
    case 'supervise':
      return [
        field('督办期限', el('input', { type: 'date', name: 'due_on', required: true })),
        field('督办意见', textarea('note', '督办要求')),
      ];
    case 'supervision-answer':
      return [field('办理进展', textarea('text', '向督办机关报告办理进展'))];
    case 'supervision-close':
      return [field('说明（可不填）', textarea('note', '', false))];
    default:
      return [];
  }
}

/** The JSON body of a form. */
function bodyOf(form, version) {
  const f = new FormData(form);
  const body = { version };
  for (const [k, v] of f.entries()) {
    if (k === 'missing') continue;
    if (typeof v === 'string' && v.trim() !== '') body[k] = v.trim();
  }
  const missing = f.getAll('missing');
  if (missing.length) body.missing = missing;
  return body;
}

async function post(path, body, key) {
  const r = await api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  const json = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = new Error(json.error?.message || `请求失败（${r.status}）`);
    e.code = json.error?.code;
    throw e;
  }
  return json;
}

function actionForm(action, clue, officers, reload) {
  const out = el('div', { class: 'outcome' });
  const key = pressKey();
  const path = `/api/officer/clues/${encodeURIComponent(clue.id)}/${action}`;
  const form = el('form', { class: 'action', 'data-action': action },
    el('h3', {}, ACTION_LABELS[action] || action), ...inputs(action, clue, officers));
  const previewBtn = el('button', { type: 'button', class: 'secondary' }, '预览告知内容');
  const submit = el('button', { type: 'submit' }, action === 'reveal' ? '查看（将记录在案）' : '确认提交');
  form.append(el('div', { class: 'buttons' }, action === 'reveal' ? null : previewBtn, submit), out);
  const preview = async () => {
    out.replaceChildren(el('p', { class: 'hint' }, '正在预览…'));
    try {
      const p = await post(`${path}/preview`, bodyOf(form, clue.version), key);
      out.replaceChildren(p.notices.length
        ? el('div', { class: 'preview' }, el('p', {}, '举报人将收到以下告知：'),
          p.notices.map((n) => el('blockquote', { 'data-notice': n.key }, n.text)))
        : el('p', { class: 'hint' }, '此操作不向举报人发送告知。'));
      return true;
    } catch (e) {
      out.replaceChildren(errorLine(e));
      return false;
    }
  };
  previewBtn.addEventListener('click', preview);
  let previewed = action === 'reveal';
  form.addEventListener('input', () => { previewed = action === 'reveal'; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!previewed) {
      // The officer sees the exact notice before it is sent: first press previews.
      previewed = await preview();
      if (previewed) submit.textContent = '确认发送';
      return;
    }
    submit.disabled = true;
    try {
      const r = await post(path, bodyOf(form, clue.version), key);
      if (action === 'reveal') {
        out.replaceChildren(el('dl', { class: 'identity revealed' },
          el('dt', {}, '姓名'), el('dd', {}, r.name || '未提供'),
          el('dt', {}, '电话'), el('dd', {}, r.phone || '未提供'),
          el('dt', {}, '身份证号'), el('dd', {}, r.id_number || '未提供')));
        return;
      }
      await reload(r.notices?.length ? `已提交，已向举报人发送 ${r.notices.length} 条告知` : '已提交');
    } catch (e) {
      out.replaceChildren(errorLine(e));
      submit.disabled = false;
    }
  });
  return form;
}

async function evidenceItem(clueId, ev) {
  const out = el('span', { class: 'hint' });
  const btn = el('button', { type: 'button', class: 'secondary', onclick: async () => {
    out.textContent = '正在校验…';
    try {
      const r = await apiJson(`/api/officer/clues/${encodeURIComponent(clueId)}/evidence/${encodeURIComponent(ev.attachment_id)}`);
      const c = r.check;
      if (c.status === 'intact') {
        out.replaceChildren(el('span', { class: 'badge ok' }, '校验一致'), ' ',
          el('a', { href: c.url, target: '_blank', rel: 'noopener' }, '打开'),
          ev.content_type.startsWith('image/') ? el('img', { src: c.url, alt: '证据图片', class: 'evidence' }) : null);
      } else if (c.status === 'altered') {
        out.replaceChildren(el('span', { class: 'badge late', role: 'alert' },
          `文件已被改动：登记摘要 ${c.recorded_sha256.slice(0, 12)}…，现为 ${c.found_sha256.slice(0, 12)}…`));
      } else {
        out.replaceChildren(el('span', { class: 'badge late' }, '文件缺失'));
      }
    } catch (e) {
      out.replaceChildren(errorLine(e));
    }
  } }, '查看');
  return el('li', {}, `${ev.content_type}，${Math.ceil(ev.size / 1024)} KB，SHA-256 ${ev.sha256.slice(0, 16)}… `, btn, ' ', out);
}

export async function renderClue(view, id, flash) {
  view.replaceChildren(el('p', { class: 'hint' }, '正在加载…'));
  let c;
  try {
    c = await apiJson(`/api/officer/clues/${encodeURIComponent(id)}`);
  } catch (e) {
    view.replaceChildren(el('p', {}, el('a', { href: '#/inbox' }, '← 返回列表')), errorLine(e));
    return;
  }
  const officers = c.actions.includes('assign')
    ? (await apiJson('/api/officer/bureau/officers').catch(() => ({ items: [] }))).items
    : [];
  const reload = (message) => renderClue(view, id, message);
  const facts = section('线索信息', el('dl', { class: 'facts' },
    el('dt', {}, '违法行为发生地'), el('dd', {}, `${c.address}（${c.division}）`, c.gps ? `，GPS ${c.gps.lat}, ${c.gps.lng}` : ''),
    el('dt', {}, '违法主体'), el('dd', {}, c.subject || '未填写'),
    el('dt', {}, '违法类型'), el('dd', {}, c.category_label),
    el('dt', {}, '主要违法事实'), el('dd', { class: 'text' }, c.facts),
    el('dt', {}, '举报渠道'), el('dd', {}, CHANNELS[c.channel] || c.channel),
    el('dt', {}, '接收时间'), el('dd', {}, cnTime(c.received_at)),
    el('dt', {}, '办理机关'), el('dd', {}, c.handler_name || c.handler),
    el('dt', {}, '举报说明版本'), el('dd', {}, c.notice_version)));
  const evidence = section('证据材料', c.evidence.length
    ? el('ul', {}, await Promise.all(c.evidence.map((e) => evidenceItem(c.id, e))))
    : el('p', { class: 'hint' }, '无'));
  const identity = section('举报人', c.identity
    ? el('dl', { class: 'identity' },
      el('dt', {}, '姓名'), el('dd', {}, c.identity.name || '未提供'),
      el('dt', {}, '电话'), el('dd', {}, c.identity.phone || '未提供'),
      el('dt', {}, '身份证号'), el('dd', {}, c.identity.id_number || '未提供'))
    : el('p', { class: 'hint' }, '匿名举报'),
    el('p', { class: 'hint' }, '如需查看完整身份，请使用下方“查看举报人身份”并填写理由，查看将记录在时间线上。'));
  const deadlines = section('期限', el('table', { class: 'list' },
    el('tbody', {}, c.all_deadlines.map((d) => el('tr', {},
      el('td', {}, d.label), el('td', {}, d.due_on ? cnDate(d.due_on) : '待定'), el('td', {}, countdown(d)))))));
  const candidates = c.candidates.length ? section('疑似重复或可合并的线索', c.candidates.map((k) => el('div', { class: 'compare', 'data-candidate': k.clue_id },
    el('p', {}, el('strong', {}, k.kind === 'duplicate' ? '同一举报人（重复举报）' : '其他举报人（可合并办理）'),
      ` ${k.clue_no}，相似度 ${Math.round(k.score * 100)}%：${k.reasons.join('；')}`),
    el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, '本线索'), el('th', {}, k.clue_no))),
      el('tbody', {},
        el('tr', {}, el('td', {}, '发生地'), el('td', {}, c.address), el('td', {}, k.address)),
        el('tr', {}, el('td', {}, '违法主体'), el('td', {}, c.subject || '—'), el('td', {}, k.subject || '—')),
        el('tr', {}, el('td', {}, '违法事实'), el('td', {}, c.facts), el('td', {}, k.facts)),
        el('tr', {}, el('td', {}, '接收日期'), el('td', {}, cnDate(c.received_on)), el('td', {}, cnDate(k.received_on)))))))) : null;
  const messages = section(`与举报人沟通${c.unread_messages ? `（未读 ${c.unread_messages}）` : ''}`, c.messages.length
    ? el('ul', { class: 'messages' }, c.messages.map((m) => el('li', { class: m.from.party === 'reporter' ? 'from-reporter' : 'from-officer' },
      el('span', { class: 'hint' }, `${cnTime(m.at)} ${m.from.party === 'reporter' ? '举报人' : '承办人'}：`), m.text)))
    : el('p', { class: 'hint' }, '暂无留言'));
  const notices = section('告知', c.notices.length
    ? el('ul', {}, c.notices.map((n) => el('li', { 'data-notice': n.key },
      el('span', { class: 'badge' }, DELIVERY[n.delivery?.status] || n.delivery?.status || ''), ' ', n.text)))
    : el('p', { class: 'hint' }, '无'));
  const verified = c.timeline_verification.verified;
  const timeline = section('办理时间线',
    el('p', { class: verified ? 'badge ok' : 'badge late', role: verified ? null : 'alert' },
      verified ? `时间线校验通过（${c.timeline.length} 条记录）` : '时间线校验失败：记录可能被篡改'),
    el('ol', { class: 'timeline' }, c.timeline.map((t) => el('li', {},
      el('span', { class: 'hint' }, cnTime(t.at)), ' ', EVENT_LABELS[t.type] || t.type,
      t.actor.type === 'officer' ? el('span', { class: 'hint' }, `（${t.actor.officer_id}）`) : null,
      t.event.reason ? `：${t.event.reason}` : '',
      t.type === 'supervision_answered' ? `：${t.event.text}` : '',
      t.type === 'supervision_opened' ? `：${t.event.supervision.note}（${cnDate(t.event.supervision.due_on)} 前答复）` : ''))));
  const forms = c.actions.length
    ? section('办理', c.actions.map((a) => actionForm(a, c, officers, reload)))
    : section('办理', el('p', { class: 'hint' }, c.access === 'read' ? '本机关可查看、督办该线索，不能办理。' : '当前没有可执行的操作。'));
  fill(view,
    el('p', {}, el('a', { href: '#/inbox' }, '← 返回列表')),
    el('h1', {}, `线索 ${c.clue_no} `, el('span', { class: 'badge', id: 'clue-state' }, c.state_label),
      c.supervised ? el('span', { class: 'badge warn' }, '督办') : null),
    flash ? el('p', { class: 'flash', role: 'status' }, flash) : null,
    ...[supervisionSection(c)].filter(Boolean), facts, evidence, identity, deadlines, candidates, forms, messages, notices, timeline);
}
