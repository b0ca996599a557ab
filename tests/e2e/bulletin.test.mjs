// 通报 in a real browser: the province supervisor generates a bulletin for the last quarter,
// reviews and issues it, downloads it as XLSX and CSV and exports the province's clue list
// through the export queue (progress, then the presigned link); a city leader opens it (its
// read receipt), and the supervisor sees the receipt. Screenshots in .dev/e2e/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { API, SHOTS, browser, signInOnPage } from "./stack.mjs";

async function consoleAs(b, username) {
  const { password, totp_secret: secret } = JSON.parse(readFileSync(".dev/officers.json", "utf8"))[username];
  const context = await b.newContext({ viewport: { width: 1400, height: 900 }, locale: "zh-CN", acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${API}/officer/login.html`);
  await signInOnPage(page, username, password, secret);
  await page.waitForURL(/\/officer\/index\.html/);
  return { page, errors };
}

async function downloaded(page, button) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  return readFileSync(await download.path());
}

test("the province supervisor issues a bulletin, downloads it, exports the clue list; a city reads it", async () => {
  const b = await browser();
  try {
    const zj = await consoleAs(b, "zj-supervisor");
    const page = zj.page;
    await page.goto(`${API}/officer/index.html#/bulletins`);
    const form = page.locator("#bulletin-generate");
    await form.waitFor({ timeout: 30_000 });
    const title = `e2e 通报 ${Date.now()}`;
    await form.locator("input[name=title]").fill(title);
    await form.locator("button[type=submit]").click();
    await page.waitForSelector("#bulletin-figures", { timeout: 30_000 });
    assert.equal((await page.textContent("#bulletin-status")).trim(), "草稿");
    const figures = await page.textContent("#bulletin-figures");
    for (const city of ["合计（全辖区）", "杭州市", "宁波市", "温州市"]) assert.ok(figures.includes(city), figures);

    await page.click("#bulletin-review");
    await page.locator("#bulletin-status", { hasText: "已审核" }).waitFor({ timeout: 30_000 });
    await page.click("#bulletin-issue");
    await page.locator("#bulletin-status", { hasText: "已印发" }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${SHOTS}/bulletin-issued.png`, fullPage: true });

    const xlsx = await downloaded(page, "#bulletin-xlsx");
    assert.equal(xlsx.subarray(0, 2).toString("latin1"), "PK", "an XLSX (zip) file");
    const csv = await downloaded(page, "#bulletin-csv");
    assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], "the CSV starts with the BOM");
    assert.ok(csv.toString("utf8").includes("地区,收到举报,受理"), "its Chinese headers");

    // The clue list through the export queue and worker: progress, then the link.
    await page.click("#clues-export");
    const link = page.locator("#export-link");
    await link.waitFor({ timeout: 120_000 });
    assert.match(await page.textContent("#export-progress"), /线索清单已完成，共 \d+ 条/);
    const href = await link.getAttribute("href");
    const file = Buffer.from(await (await fetch(href)).arrayBuffer());
    assert.equal(file.subarray(0, 2).toString("latin1"), "PK");
    const bulletinUrl = page.url();

    // Hangzhou's leader sees it unread, opens it: the province sees the receipt.
    const hz = await consoleAs(b, "hz-leader");
    await hz.page.goto(`${API}/officer/index.html#/bulletins`);
    const row = hz.page.locator("table.bulletins tr", { hasText: title });
    await row.waitFor({ timeout: 30_000 });
    assert.match(await row.textContent(), /未读/);
    await row.locator("a").click();
    await hz.page.waitForSelector("#bulletin-figures");
    await page.goto(bulletinUrl);
    await page.reload();
    const receipts = page.locator("#bulletin-receipts tr", { hasText: "杭州市" });
    await receipts.waitFor({ timeout: 30_000 });
    assert.match(await receipts.textContent(), /已读/);
    await page.screenshot({ path: `${SHOTS}/bulletin-receipts.png`, fullPage: true });
    assert.deepEqual([...zj.errors, ...hz.errors], []);
  } finally {
    await b.close();
  }
});
