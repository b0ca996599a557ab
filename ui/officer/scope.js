// Scope filing (arts. 8, 9) in the console (`#/scope`): a city's scope versions with their
// reporting notices, in force or upcoming, filed with the province and acknowledged; the city
// leader's filing form (added categories, narrowed or dropped exclusions, effective time, the
// filing's document number); for a province, its cities' filings with an acknowledge button.
import { api, apiJson } from './session.js';
import { el, cnDate, cnTime, pressKey, errorLine } from './dom.js';

// Art. 7's wording (as the domain's `Exclusion::text`).
const EXCLUSIONS = [
  ['legal_proceedings', '依法应当通过申请行政复议、行政诉讼、仲裁等途径解决或者已经进入上述程序的'],
  ['official_misconduct', '检举揭发国土资源系统干部违法违纪问题的'],
  ['ownership_dispute', '土地权属纠纷、征地补偿费分配或者拖欠，依法应由地方政府或者其他部门处理的'],
  ['state_secrets', '用地用矿涉及国家安全、国家秘密的'],
  ['not_land_duty', '不属于国土资源主管部门职责范围的'],
];

async function postJson(path, body) {
  const r = await api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': pressKey() },
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

function status(v) {
  const parts = [];
  if (v.in_force) parts.push(el('span', { class: 'badge ok' }, '现行'));
  if (v.upcoming) parts.push(el('span', { class: 'badge warn' }, `${cnTime(v.effective_from)} 起施行`));
  if (v.filing) {
    parts.push(v.acknowledged
      ? el('span', { class: 'badge ok' }, `省厅已确认备案（${cnTime(v.acknowledged.at)}）`)
      : el('span', { class: 'badge' }, '已报省厅备案，待确认'));
  }
  return parts;
}

function versionCard(v, extra) {
  return el('section', { class: 'card', 'data-scope-version': v.version },
    el('h2', {}, `${v.city} 第 ${v.version} 版`, ' ', ...status(v)),
    el('dl', { class: 'facts' },
      el('dt', {}, '施行时间'), el('dd', {}, v.version === 1 ? '默认范围' : cnTime(v.effective_from)),
      el('dt', {}, '备案'), el('dd', {}, v.filing ? `${v.filing.reference}，${cnDate(v.filing.filed_on)} 报 ${v.filing.province}` : '默认范围，无需备案'),
      el('dt', {}, '拓展接收的情形'), el('dd', {}, v.extra_categories.length ? v.extra_categories.map((c) => `${c.name}（${c.code}）`).join('；') : '无'),
      el('dt', {}, '举报说明版本'), el('dd', {}, v.notice_version)),
    el('details', {}, el('summary', {}, '举报说明全文'), el('pre', { class: 'text' }, v.notice_text)),
    extra || null);
}

function fileForm(current, reload) {
  const out = el('div', { class: 'outcome' });
  const extras = el('textarea', { name: 'extras', rows: 3, placeholder: '每行一项：代码|名称|说明，如 river_sand|非法采挖河道砂石|未经许可在河道内采挖砂石' });
  extras.value = current.extra_categories.map((c) => `${c.code}|${c.name}|${c.description}`).join('\n');
  const rules = EXCLUSIONS.map(([code, text]) => {
    const now = current.exclusions.find((e) => e.exclusion === code);
    return el('div', { class: 'exclusion' },
      el('label', { class: 'inline' }, el('input', { type: 'checkbox', name: `keep-${code}`, checked: Boolean(now) }), `不接收：${text}`),
      el('input', { name: `narrow-${code}`, placeholder: '缩小后的表述（可不填）', value: now && now.narrowed ? now.text : '' }));
  });
  const form = el('form', { class: 'action', id: 'scope-file' },
    el('h3', {}, '报备新的接收范围'),
    el('label', {}, '拓展接收的情形', extras),
    el('fieldset', {}, el('legend', {}, '不予接收的情形（取消勾选即不再排除，可填写缩小后的表述）'), rules),
    el('label', {}, '施行时间', el('input', { type: 'datetime-local', name: 'effective_from', required: true })),
    el('label', {}, '备案文号', el('input', { name: 'reference', required: true, maxlength: 100 })),
    el('div', { class: 'buttons' }, el('button', { type: 'submit' }, '报省厅备案')), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const extraCategories = String(f.get('extras') || '').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const [code, name, description] = l.split('|').map((x) => (x || '').trim());
      return { code, name, description: description || '' };
    });
    const exclusions = EXCLUSIONS.filter(([code]) => f.get(`keep-${code}`)).map(([code]) => {
      const narrowed = String(f.get(`narrow-${code}`) || '').trim();
      return narrowed ? { exclusion: code, narrowed_to: narrowed } : { exclusion: code };
    });
    try {
      const v = await postJson('/api/officer/scope', {
        extra_categories: extraCategories,
        exclusions,
        effective_from: new Date(String(f.get('effective_from'))).toISOString(),
        reference: String(f.get('reference') || '').trim(),
      });
      await reload(`已报备第 ${v.version} 版，${cnTime(v.effective_from)} 起施行`);
    } catch (e) {
      out.replaceChildren(errorLine(e));
    }
  });
  return form;
}

export async function renderScope(view, flash) {
  view.replaceChildren(el('h1', {}, '接收范围与举报说明'), el('p', { class: 'hint' }, '正在加载…'));
  let s;
  try {
    s = await apiJson('/api/officer/scope');
  } catch (e) {
    view.replaceChildren(el('h1', {}, '接收范围与举报说明'), errorLine(e));
    return;
  }
  const reload = (message) => renderScope(view, message);
  const note = flash ? [el('p', { class: 'flash', role: 'status' }, flash)] : [];
  if (s.level === 'province') {
    const cards = s.filings.map((v) => versionCard(v, !v.acknowledged && s.may_acknowledge
      ? el('button', { type: 'button', 'data-acknowledge': `${v.city}/${v.version}`, onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await postJson(`/api/officer/scope/${encodeURIComponent(v.city)}/${v.version}/acknowledge`, {});
          await reload(`已确认 ${v.city} 第 ${v.version} 版的备案`);
        } catch (e) {
          ev.target.replaceWith(errorLine(e));
        }
      } }, '确认备案')
      : null));
    view.replaceChildren(el('h1', {}, '各市接收范围备案'), ...note,
      ...(cards.length ? cards : [el('p', { class: 'hint' }, '辖区各市尚未报备调整。')]));
    return;
  }
  const versions = [...s.versions].reverse();
  const latest = s.versions[s.versions.length - 1];
  view.replaceChildren(el('h1', {}, `接收范围与举报说明（${s.city}）`), ...note,
    ...(s.may_file ? [fileForm(latest, reload)] : []),
    ...versions.map((v) => versionCard(v)));
}
