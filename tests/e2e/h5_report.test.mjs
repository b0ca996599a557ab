// A citizen opens the H5 form from the simulator (as from the account's menu), learns that a
// place without a bureau is not served, reports a violation with a photo, and opens every link
// the platform sent them exactly as sent: the welcome's "我的举报" and the receipt notice's page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { API, SHOTS, SIM, browser, eventually, linkIn, newUser, pushed, say } from "./stack.mjs";

const RECEIPT = "您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。感谢您对国土资源工作的支持！";

/** A real 32×32 PNG (what a phone photo is to the platform: bytes with a PNG signature). */
function png() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(32, 0); ihdr.writeUInt32BE(32, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.concat(Array.from({ length: 32 }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(96, 0x5a)])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]);
}

test("a reporter opens the form from the simulator, files a clue with a photo, and every link sent opens its page", async () => {
  const openid = await newUser("e2e-h5");
  // Following the account: the welcome reply carries the links, as sent.
  const welcome = await say(openid, { type: "subscribe" });
  const mineLink = linkIn(welcome, "#/mine");
  const formLink = linkIn(welcome, "return=%23%2Freport");
  assert.equal(formLink, `${API}/api/reporter/login?return=%23%2Freport`);
  for (const link of [formLink, mineLink]) {
    assert.ok(link.startsWith(API + "/"), `a link on the platform's public origin: ${link}`);
  }

  const b = await browser();
  try {
    const context = await b.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    // The simulator's page, as a tester uses it: pick the user, press "打开举报表单".
    const simPage = await context.newPage();
    await simPage.goto(SIM + "/");
    await simPage.waitForSelector(`#user option[value='${openid}']`, { state: "attached" });
    // The page has read its configuration (the form's link) once it says the callback mode;
    // choosing the user clears the chat, so wait first.
    await simPage.waitForSelector("text=安全模式");
    await simPage.selectOption("#user", openid);
    const [page] = await Promise.all([context.waitForEvent("page"), simPage.click("#openForm")]);
    // Through the platform's OAuth (login → authorize → oauth) to the form, signed in.
    await page.waitForSelector("#sel-province", { timeout: 30_000 });
    assert.equal(page.url(), `${API}/h5/index.html#/report`);
    assert.ok((await context.cookies(API + "/api/reporter/")).some((c) => c.name === "rs"), "a session after OAuth");

    // A place without a bureau on the platform is said before anything is written.
    await page.waitForSelector("#sel-province option[value='110000']", { state: "attached" });
    assert.match(await page.textContent("#sel-province option[value='110000']"), /暂未开通/);
    assert.doesNotMatch(await page.textContent("#sel-province option[value='330000']"), /暂未开通/);
    await page.selectOption("#sel-province", "110000");
    await page.waitForSelector("#sel-city option[value='110100']", { state: "attached" });
    await page.selectOption("#sel-city", "110100");
    await page.waitForSelector("#sel-county option[value='110101']", { state: "attached" });
    await page.selectOption("#sel-county", "110101");
    await page.waitForSelector("#not-served:not([hidden])");
    const notServed = await page.textContent("#not-served");
    assert.match(notServed, /北京市东城区.*暂未接入本平台/);
    assert.match(notServed, /12336/);
    assert.ok(await page.isDisabled("text=下一步"), "no way on to the form");
    await page.screenshot({ path: `${SHOTS}/h5-not-served.png`, fullPage: true });

    // Step 1: a served place, province → city → county.
    await page.selectOption("#sel-province", "330000");
    await page.waitForSelector("#sel-city option[value='330100']", { state: "attached" });
    await page.selectOption("#sel-city", "330100");
    await page.waitForSelector("#sel-county option[value='330106']", { state: "attached" });
    await page.selectOption("#sel-county", "330106");
    await page.waitForSelector("#not-served", { state: "hidden" });
    await page.click("text=下一步");

    // Step 2: the city's reporting notice, and consent.
    await page.waitForSelector("#notice-text");
    const notice = await page.textContent("#notice-text");
    assert.match(notice, /本平台不接收以下情形的举报/);
    assert.match(notice, /已阅读并同意该《举报说明》/);
    await page.check("#consent");
    await page.click("text=同意并填写举报");

    // Step 3: the form; text that hides itself is refused with the platform's answer.
    await page.fill("#address", "留下街道某村\u202E侧东田农");
    await page.fill("#facts", "\u200B\u200B");
    await page.click("#submit");
    await page.waitForSelector("#form-error:has-text('详细地址')");
    await page.fill("#address", "留下街道某村东侧农田");
    await page.fill("#subject", "某建材公司");
    await page.selectOption("#category", "annex:farmland_destruction");
    await page.fill("#facts", "在永久基本农田上堆放建材并硬化地面，已持续两个月。");
    await page.setInputFiles("#photos", { name: "现场.png", mimeType: "image/png", buffer: png() });
    await page.waitForSelector("#uploads >> text=已上传", { timeout: 60_000 });
    await page.screenshot({ path: `${SHOTS}/h5-form.png`, fullPage: true });
    await page.click("#submit");

    await page.waitForSelector("#submitted", { timeout: 30_000 });
    const clueNo = (await page.textContent("#clue-no")).trim();
    assert.match(clueNo, /^330106-\d{8}-\d{4,}$/);
    assert.equal((await page.textContent("#receipt-text")).trim(), RECEIPT);
    await page.screenshot({ path: `${SHOTS}/h5-submitted.png`, fullPage: true });

    // The welcome's "查看我的举报" link, exactly as sent, lists it.
    await page.goto(mineLink);
    await page.waitForSelector("#my-clues");
    assert.match(await page.textContent("#my-clues"), new RegExp(clueNo));
    await page.screenshot({ path: `${SHOTS}/h5-mine.png`, fullPage: true });

    // The receipt notice reaches the reporter through WeChat, verbatim, and its link (as sent)
    // opens the clue's page with the notice, in a browser that starts without a session.
    const delivered = await eventually(async () => {
      const msgs = await pushed(openid);
      return msgs.find((m) => m.kind === "subscribe" && m.body && m.body.page);
    }, 90_000, "the receipt notice (subscription message) at the fake WeChat API");
    const noticeLink = delivered.body.page;
    assert.ok(noticeLink.startsWith(API + "/h5/index.html#/notices/"), `the notice page is on the public origin: ${noticeLink}`);
    const fresh = await b.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    await fresh.addCookies([{ name: "sim_user", value: openid, url: SIM }]);
    const noticePage = await fresh.newPage();
    await noticePage.goto(noticeLink);
    await noticePage.waitForSelector("#notices", { timeout: 30_000 });
    assert.equal(noticePage.url(), noticeLink, "back on the notice's page after signing in");
    assert.match(await noticePage.textContent("#notices"), new RegExp(RECEIPT.slice(0, 20)));
    assert.match(await noticePage.textContent("h2"), new RegExp(clueNo));
    await noticePage.screenshot({ path: `${SHOTS}/h5-notice-link.png`, fullPage: true });
  } finally {
    await b.close();
  }
});
