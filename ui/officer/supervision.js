// 督办 in the console: the banner of supervisions the bureau must answer (inbox), the
// supervision section of a clue (note, due day, the handling bureau's answers), and the page
// listing what the bureau supervises with the answers (`#/supervisions`).
import { api, apiJson } from './session.js';
import { el, cnDate, cnTime, pressKey, errorLine } from './dom.js';

const END = { closed: '已结束督办', clue_closed: '线索已办结，督办结束' };

function answersList(answers) {
  return answers.length
    ? el('ol', { class: 'answers' }, answers.map((a) => el('li', {},
      el('span', { class: 'hint' }, `${cnTime(a.at)} ${a.officer}：`), a.text)))
    : el('p', { class: 'hint' }, '尚未答复');
}

/** The open supervisions of clues this bureau handles, as a banner (null when none). */
export async function supervisionBanner() {
  let page;
  try {
    page = await apiJson('/api/officer/supervisions?role=answer');
  } catch (e) {
    return el('div', { class: 'banner supervision' }, errorLine(e));
  }
  if (!page.items.length) return null;
  return el('section', { class: 'banner supervision', role: 'alert', id: 'supervision-banner' },
    el('strong', {}, `上级督办：${page.items.length} 条线索待报告办理进展`),
    el('ul', {}, page.items.map((s) => el('li', { 'data-clue': s.clue_id },
      el('a', { href: `#/clue/${encodeURIComponent(s.clue_id)}` }, s.clue_no),
      `，${s.supervision.by_name || s.supervision.by} 督办，${cnDate(s.supervision.due_on)} 前答复`,
      s.supervision.answers.length ? `（已答复 ${s.supervision.answers.length} 次）` : '（尚未答复）'))));
}

/** A clue's supervisions, the open one first and highlighted (null when never supervised). */
export function supervisionSection(clue) {
  const list = [...(clue.supervisions || [])].reverse();
  if (!list.length) return null;
  return el('section', { class: 'card supervision', id: 'supervision' },
    el('h2', {}, '督办'),
    list.map((s) => el('div', { class: s.ended_at ? 'supervision-item ended' : 'supervision-item open' },
      el('p', {},
        el('span', { class: s.ended_at ? 'badge' : 'badge warn' }, s.ended_at ? (END[s.end] || '已结束') : '督办中'),
        ` ${s.by_name || s.by}，${cnTime(s.opened_at)} 督办，要求 ${cnDate(s.due_on)} 前答复`),
      el('p', { class: 'text' }, `督办意见：${s.note}`),
      el('h3', {}, '办理进展答复'),
      answersList(s.answers),
      s.ended_at ? el('p', { class: 'hint' }, `${cnTime(s.ended_at)} ${END[s.end] || ''}${s.end_note ? `：${s.end_note}` : ''}`) : null)));
}

/** The form that supervises a lower bureau's open (or overdue) clues at once. */
function divisionForm(view, params) {
  const out = el('div', { class: 'outcome' });
  const key = pressKey();
  const form = el('form', { class: 'action', id: 'supervise-division' },
    el('h3', {}, '督办下级机关'),
    el('label', {}, '下级机关（机关标识）', el('input', { name: 'bureau', required: true, placeholder: '如 land-330106' })),
    el('label', {}, '督办范围', el('select', { name: 'covers' },
      el('option', { value: 'overdue' }, '该机关已超期的线索'),
      el('option', { value: 'open' }, '该机关全部在办线索'))),
    el('label', {}, '督办期限', el('input', { type: 'date', name: 'due_on', required: true })),
    el('label', {}, '督办意见', el('textarea', { name: 'note', rows: 2, required: true })),
    el('div', { class: 'buttons' }, el('button', { type: 'submit' }, '督办')), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const r = await api('/api/officer/supervisions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(Object.fromEntries([...f.entries()].map(([k, v]) => [k, String(v).trim()]))),
    });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) {
      out.replaceChildren(errorLine(new Error(json.error?.message || `请求失败（${r.status}）`)));
      return;
    }
    const flash = `已督办 ${json.supervised.length} 条线索`
      + (json.skipped.length ? `，${json.skipped.length} 条已在督办中` : '')
      + (json.failed.length ? `，${json.failed.length} 条未成功，请重试` : '');
    await renderSupervisions(view, params, flash);
  });
  return form;
}

/** `#/supervisions`: what this bureau supervises (with the answers), and what it must answer. */
export async function renderSupervisions(view, params, flash) {
  view.replaceChildren(el('h1', {}, '督办'), el('p', { class: 'hint' }, '正在加载…'));
  const q = new URLSearchParams({ role: 'by' });
  if (params.get('cursor')) q.set('cursor', params.get('cursor'));
  let mine;
  let toAnswer;
  try {
    [mine, toAnswer] = await Promise.all([
      apiJson(`/api/officer/supervisions?${q}`),
      apiJson('/api/officer/supervisions?role=answer'),
    ]);
  } catch (e) {
    view.replaceChildren(el('h1', {}, '督办'), errorLine(e));
    return;
  }
  const row = (s) => el('tr', { 'data-clue': s.clue_id, class: s.open ? '' : 'ended' },
    el('td', {}, el('a', { href: `#/clue/${encodeURIComponent(s.clue_id)}` }, s.clue_no)),
    el('td', {}, s.handler_name || s.handler),
    el('td', {}, cnDate(s.supervision.due_on)),
    el('td', {}, s.open ? el('span', { class: 'badge warn' }, '督办中') : (END[s.supervision.end] || '已结束')),
    el('td', {}, s.supervision.note),
    el('td', {}, answersList(s.supervision.answers)));
  const table = (items, empty) => (items.length
    ? el('table', { class: 'list' },
      el('thead', {}, el('tr', {}, ['线索编号', '办理机关', '答复期限', '状态', '督办意见', '办理进展答复'].map((h) => el('th', {}, h)))),
      el('tbody', {}, items.map(row)))
    : el('p', { class: 'hint' }, empty));
  const more = mine.next
    ? el('p', {}, el('a', { href: `#/supervisions?cursor=${encodeURIComponent(mine.next)}` }, '下一页'))
    : null;
  view.replaceChildren(
    el('h1', {}, '督办'),
    ...(flash ? [el('p', { class: 'flash', role: 'status' }, flash)] : []),
    el('section', { class: 'card', id: 'supervisions-to-answer' }, el('h2', {}, '上级督办本机关的线索'),
      table(toAnswer.items, '没有待答复的督办。')),
    el('section', { class: 'card', id: 'supervisions-by' }, el('h2', {}, '本机关督办的线索'),
      table(mine.items, '本机关尚未督办线索。可在辖区线索页面使用“督办”，或在下方督办下级机关。'), more,
      divisionForm(view, params)));
}
