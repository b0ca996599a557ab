// The statistics dashboard (`#/statistics[/<division>]`): the figures of a division of the
// caller's territory and of each child division for a period, as tables and Apache ECharts
// charts (intake trend, outcome mix, on-time rate and overdue by division), with drill-down
// province → city → county → the clue list (the county bureau's inbox).
import { apiJson } from './session.js';
import { el, errorLine, CHANNELS } from './dom.js';

const GRANULARITIES = [['day', '按日'], ['month', '按月'], ['quarter', '按季度'], ['year', '按年']];
const OUTCOMES = {
  accept: '受理',
  out_of_scope: '不属于接收范围',
  duplicate: '重复举报',
  need_material: '需补充材料',
};
const RESULTS = { no_violation: '不存在违法行为', violation_found: '存在违法行为' };
const DEADLINES = {
  judgment: '判定告知期限',
  escalation: '逐级提请期限',
  verification_notice: '核查结果告知期限',
};

let echartsLoading = null;

/** Loads the bundled ECharts (served by the console itself, no CDN) once. */
function loadEcharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!echartsLoading) {
    echartsLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'echarts.min.js';
      s.onload = () => resolve(window.echarts);
      s.onerror = () => { echartsLoading = null; reject(new Error('图表组件加载失败，请刷新重试')); };
      document.head.append(s);
    });
  }
  return echartsLoading;
}

/** `0.8754` → `87.5%`; none → `—`. */
function pct(rate) {
  return typeof rate === 'number' ? `${(rate * 100).toFixed(1)}%` : '—';
}

function periodLabel(p, granularity) {
  const [y, m, d] = p.from.split('-');
  switch (granularity) {
    case 'year': return `${y}年`;
    case 'quarter': return `${y}年第${Math.floor((Number(m) - 1) / 3) + 1}季度`;
    case 'month': return `${y}年${Number(m)}月`;
    default: return `${Number(m)}月${Number(d)}日`;
  }
}

/** The clue list of a county (its bureau's inbox), optionally only the overdue ones. */
function clueListLink(row, overdue) {
  if (!row.bureau_id) return null;
  const q = new URLSearchParams({ bureau: row.bureau_id, division: row.code });
  if (overdue) q.set('overdue', 'true');
  return `#/inbox?${q}`;
}

/** Where a division's row leads: a city to its own figures, a county to its clue list. */
function drillLink(row, query) {
  if (row.level === 'county') return clueListLink(row, false);
  return `#/statistics/${encodeURIComponent(row.code)}${query ? `?${query}` : ''}`;
}

function summary(f) {
  const verified = Object.values(f.verified || {}).reduce((a, b) => a + b, 0);
  const cells = [
    ['接收线索', f.received],
    ['受理', f.accepted],
    ['逐级提请', f.escalated],
    ['指定管辖', f.designated],
    ['核查办结', verified],
    ['移交', f.transferred_on_platform + f.transferred_off_platform],
    ['在办', f.open],
    ['在办超期', f.open_overdue],
    ['按期率', pct(f.deadlines_total.on_time_rate.rate)],
  ];
  return el('div', { class: 'stat-cards' },
    cells.map(([label, value]) => el('div', { class: 'stat-card' },
      el('div', { class: 'hint' }, label), el('strong', { 'data-figure': label }, String(value)))));
}

function deadlineTable(f) {
  const rows = Object.entries(DEADLINES).map(([code, label]) => [label, f.deadlines[code]]);
  rows.push(['合计', f.deadlines_total]);
  return el('table', { class: 'list', id: 'deadline-table' },
    el('thead', {}, el('tr', {}, ['期限', '按期完成', '逾期完成', '逾期记录', '逾期未完成', '在办超期', '按期率']
      .map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.map(([label, d]) => el('tr', {},
      el('td', {}, label), el('td', {}, d.on_time), el('td', {}, d.late), el('td', {}, d.missed),
      el('td', {}, d.missed_unmet), el('td', {}, d.open_overdue), el('td', {}, pct(d.on_time_rate.rate))))));
}

function breakdown(title, counts, labels) {
  const entries = Object.entries(counts || {});
  if (!entries.length) return el('p', { class: 'hint' }, `${title}：无`);
  return el('p', {}, `${title}：`, entries.map(([k, n]) => el('span', { class: 'badge' }, `${labels[k] || k} ${n}`)));
}

function childrenTable(body, query) {
  const head = ['行政区划', '接收', '受理', '在办', '在办超期', '按期率', ''];
  return el('table', { class: 'list', id: 'children-table' },
    el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))),
    el('tbody', {}, body.children.map((c) => {
      const f = c.figures;
      const overdueLink = f.open_overdue > 0 && c.level === 'county' ? clueListLink(c, true) : null;
      return el('tr', { class: f.open_overdue > 0 ? 'overdue' : '', 'data-division': c.code },
        el('td', {}, el('a', { href: drillLink(c, query) }, c.short_name)),
        el('td', {}, f.received),
        el('td', {}, f.accepted),
        el('td', {}, f.open),
        el('td', {}, overdueLink ? el('a', { href: overdueLink, class: 'overdue-link' }, String(f.open_overdue)) : f.open_overdue),
        el('td', {}, pct(f.deadlines_total.on_time_rate.rate)),
        el('td', {}, c.level === 'county' && c.bureau_id ? el('a', { href: clueListLink(c, false) }, '查看线索') : ''));
    })));
}

function chartBox(id, title) {
  return el('section', { class: 'card' }, el('h2', {}, title), el('div', { class: 'chart', id }));
}

function drawCharts(echarts, view, body, query) {
  const charts = [];
  const make = (id) => {
    // This page's own chart node (a page left before its charts were drawn has none attached).
    const node = view.querySelector(`#${id}`);
    if (!node || !node.isConnected) return null;
    const chart = echarts.init(node, null, { renderer: 'canvas' });
    charts.push(chart);
    return chart;
  };
  const trend = make('chart-trend');
  trend?.setOption({
    tooltip: { trigger: 'axis' },
    legend: { data: ['接收', '受理', '在办超期'] },
    xAxis: { type: 'category', data: body.series.map((p) => periodLabel(p.period, body.granularity)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '接收', type: 'bar', data: body.series.map((p) => p.received) },
      { name: '受理', type: 'bar', data: body.series.map((p) => p.accepted) },
      { name: '在办超期', type: 'line', data: body.series.map((p) => p.open_overdue) },
    ],
  });
  const outcomes = make('chart-outcomes');
  outcomes?.setOption({
    tooltip: { trigger: 'item' },
    legend: { bottom: 0 },
    series: [{
      name: '判定结果',
      type: 'pie',
      radius: ['35%', '65%'],
      data: Object.entries(body.figures.judged).map(([k, n]) => ({ name: OUTCOMES[k] || k, value: n })),
    }],
  });
  const divisions = make('chart-divisions');
  if (divisions) {
    const kids = body.children;
    divisions.setOption({
      tooltip: { trigger: 'axis' },
      legend: { data: ['在办超期', '按期率'] },
      xAxis: { type: 'category', data: kids.map((c) => c.short_name), axisLabel: { interval: 0, rotate: kids.length > 8 ? 30 : 0 } },
      yAxis: [
        { type: 'value', name: '件', minInterval: 1 },
        { type: 'value', name: '按期率', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      ],
      series: [
        { name: '在办超期', type: 'bar', data: kids.map((c) => c.figures.open_overdue), itemStyle: { color: '#c62828' } },
        {
          name: '按期率', type: 'line', yAxisIndex: 1,
          data: kids.map((c) => {
            const r = c.figures.deadlines_total.on_time_rate.rate;
            return typeof r === 'number' ? Number((r * 100).toFixed(1)) : null;
          }),
        },
      ],
    });
    // Drill-down from the chart: a city to its counties, a county to its clues.
    divisions.on('click', (p) => {
      const row = kids[p.dataIndex];
      if (!row) return;
      const target = row.level === 'county' && p.seriesName === '在办超期'
        ? clueListLink(row, true) : drillLink(row, query);
      if (target) window.location.hash = target;
    });
  }
  const resize = () => charts.forEach((c) => c.resize());
  window.addEventListener('resize', resize);
  window.addEventListener('hashchange', () => {
    window.removeEventListener('resize', resize);
    charts.forEach((c) => c.dispose());
  }, { once: true });
}

export async function renderStatistics(view, division, params) {
  const query = new URLSearchParams();
  for (const k of ['from', 'to', 'granularity']) if (params.get(k)) query.set(k, params.get(k));
  if (division) query.set('division', division);
  view.replaceChildren(el('h1', {}, '统计分析'), el('p', { class: 'hint' }, '正在加载…'));
  let body;
  try {
    body = await apiJson(`/api/officer/statistics?${query}`);
  } catch (e) {
    view.replaceChildren(el('h1', {}, '统计分析'), errorLine(e));
    return;
  }
  const keep = new URLSearchParams(query);
  keep.delete('division');
  const keepQuery = keep.toString();
  const crumbs = el('nav', { class: 'crumbs', 'aria-label': '行政区划' },
    body.path.map((p) => [el('a', { href: `#/statistics/${p.code}${keepQuery ? `?${keepQuery}` : ''}` }, p.short_name), ' › ']),
    el('strong', {}, body.division.short_name));
  const form = el('form', { class: 'filters', onsubmit: (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const q = new URLSearchParams();
    for (const k of ['from', 'to', 'granularity']) if (f.get(k)) q.set(k, f.get(k));
    window.location.hash = `#/statistics/${body.division.code}?${q}`;
  } },
    el('label', {}, '统计起始日', el('input', { type: 'date', name: 'from', value: body.from })),
    el('label', {}, '截止日', el('input', { type: 'date', name: 'to', value: body.to })),
    el('label', {}, '时段', el('select', { name: 'granularity' },
      GRANULARITIES.map(([v, l]) => el('option', { value: v, selected: body.granularity === v }, l)))),
    el('button', { type: 'submit' }, '查询'));
  const f = body.figures;
  const parts = [
    el('h1', {}, `统计分析 · ${body.division.name}`),
    crumbs,
    form,
    el('p', { class: 'hint' }, `${body.from} 至 ${body.to}；按期率 = 按期完成 ÷（按期完成 + 逾期完成 + 逾期未完成 + 期末在办超期）`),
    summary(f),
    el('section', { class: 'card' }, el('h2', {}, '办理期限'), deadlineTable(f),
      breakdown('判定结果', f.judged, OUTCOMES),
      breakdown('核查结果', f.verified, RESULTS),
      breakdown('违法类型', f.by_category, body.category_labels || {}),
      breakdown('举报渠道', f.by_channel, CHANNELS)),
    chartBox('chart-trend', '线索接收趋势'),
    chartBox('chart-outcomes', '判定结果构成'),
  ];
  if (body.children.length) {
    parts.push(chartBox('chart-divisions', '各地区按期率与在办超期'));
    parts.push(el('section', { class: 'card' }, el('h2', {}, '下级地区'), childrenTable(body, keepQuery)));
  } else if (body.division.bureau_id) {
    parts.push(el('p', {},
      el('a', { href: clueListLink(body.division, false) }, '查看本地区线索'), '　',
      el('a', { href: clueListLink(body.division, true), class: 'overdue-link' }, '仅看超期线索')));
  }
  view.replaceChildren(...parts);
  try {
    drawCharts(await loadEcharts(), view, body, keepQuery);
  } catch (e) {
    view.append(errorLine(e));
  }
}
