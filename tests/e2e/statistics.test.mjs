// The statistics dashboard in a real browser on the demo data (infra/dev up's demo clues): the
// province supervisor sees the overdue county in the chart, drills down province → city →
// county → its overdue clues. ECharts is the console's own bundled copy (no CDN).
import { test } from "node:test";
import assert from "node:assert/strict";
import { API, SHOTS, browser, signIn } from "./stack.mjs";

/** The data of a series of the ECharts chart in `#id`, by its name. */
async function chartSeries(page, id, name) {
  await page.waitForFunction((el) => {
    const node = document.getElementById(el);
    return node && window.echarts && window.echarts.getInstanceByDom(node);
  }, id, { timeout: 30_000 });
  return page.evaluate(([el, series]) => {
    const option = window.echarts.getInstanceByDom(document.getElementById(el)).getOption();
    const s = option.series.find((x) => x.name === series);
    return { labels: option.xAxis[0].data, data: s.data };
  }, [id, name]);
}

test("the province supervisor sees the overdue county in the chart and drills down to its clues", async () => {
  const b = await browser();
  try {
    const { page, errors } = await signIn(b, "zj-supervisor");
    const blocked = [];
    page.on("console", (m) => { if (/Content Security Policy/.test(m.text())) blocked.push(m.text()); });
    await page.click("nav#nav a[href='#/statistics']");
    await page.waitForSelector("#children-table tr[data-division='330100']", { timeout: 30_000 });
    // The province: its cities; Hangzhou carries the overdue backlog.
    const cities = await chartSeries(page, "chart-divisions", "在办超期");
    const hz = cities.labels.indexOf("杭州市");
    assert.ok(hz >= 0, `Hangzhou in the chart: ${cities.labels}`);
    assert.ok(cities.data[hz] > 0, `Hangzhou's open overdue clues in the chart: ${cities.data}`);
    const trend = await chartSeries(page, "chart-trend", "接收");
    assert.ok(trend.data.reduce((a, n) => a + n, 0) > 0, "the intake trend has the year's reports");
    await page.screenshot({ path: `${SHOTS}/statistics-province.png`, fullPage: true });

    // Drill down: the city, then the county that fell behind.
    await page.click("#children-table tr[data-division='330100'] a");
    await page.waitForSelector("#children-table tr[data-division='330110']", { timeout: 30_000 });
    const counties = await chartSeries(page, "chart-divisions", "在办超期");
    const yh = counties.labels.indexOf("余杭区");
    assert.ok(counties.data[yh] > 0, `余杭区 overdue in the chart: ${counties.labels} ${counties.data}`);
    assert.equal(Math.max(...counties.data), counties.data[yh], "the county most behind");
    await page.screenshot({ path: `${SHOTS}/statistics-city.png`, fullPage: true });
    await page.click("#children-table tr[data-division='330110'] a.overdue-link");
    // The inbox's rows carry their clue (`data-clue`); the statistics page's division table is a
    // `table.list` with `tr.overdue` rows too, so waiting on those alone could pass before the
    // inbox replaced it, and count an empty page.
    await page.waitForSelector("table.list tbody tr.overdue[data-clue]", { timeout: 30_000 });
    const rows = await page.locator("table.list tbody tr[data-clue]").count();
    const overdue = await page.locator("table.list tbody tr.overdue[data-clue]").count();
    assert.ok(overdue > 0 && overdue === rows, `only overdue clues listed (${overdue}/${rows})`);
    assert.match(page.url(), /bureau=land-330110/);
    await page.screenshot({ path: `${SHOTS}/statistics-clues.png`, fullPage: true });
    // Hook for the bulletin (helper `bulletin`): download this period's bulletin from here.
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked.filter((t) => /script/i.test(t)), [], "no script blocked by the CSP");
  } finally {
    await b.close();
  }
});
