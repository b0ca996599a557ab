// A citizen reports a violation with a photo through the H5 form inside WeChat, sees it in
// "我的举报", and the receipt notice (annex 3, item 1) reaches them through WeChat verbatim.
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { API, SHOTS, browser, eventually, newUser, oauthLanding, pushed, textOf } from "./stack.mjs";

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

test("a reporter files a clue with a photo in the H5 form and gets the receipt notice", async () => {
  const openid = await newUser("e2e-h5");
  const { landing, cookies } = await oauthLanding(openid, "#/report");
  const b = await browser();
  try {
    const context = await b.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    await context.addCookies(cookies);
    const page = await context.newPage();
    const target = landing.startsWith("http") ? landing : API + landing;
    await page.goto(target);
    assert.ok((await context.cookies(API + "/api/reporter/")).some((c) => c.name === "rs"), `a session after OAuth (${page.url()})`);
    await page.goto(`${API}/h5/index.html#/report`);

    // Step 1: the place, province → city → county.
    await page.selectOption("#sel-province", "330000");
    await page.waitForSelector("#sel-city option[value='330100']", { state: "attached" });
    await page.selectOption("#sel-city", "330100");
    await page.waitForSelector("#sel-county option[value='330106']", { state: "attached" });
    await page.selectOption("#sel-county", "330106");
    await page.click("text=下一步");

    // Step 2: the city's reporting notice, and consent.
    await page.waitForSelector("#notice-text");
    const notice = await page.textContent("#notice-text");
    assert.match(notice, /本平台不接收以下情形的举报/);
    assert.match(notice, /已阅读并同意该《举报说明》/);
    await page.check("#consent");
    await page.click("text=同意并填写举报");

    // Step 3: the form, with a photo uploaded through the presigned POST.
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

    // "我的举报" lists it.
    await page.goto(`${API}/h5/index.html#/mine`);
    await page.waitForSelector("#my-clues");
    assert.match(await page.textContent("#my-clues"), new RegExp(clueNo));
    await page.screenshot({ path: `${SHOTS}/h5-mine.png`, fullPage: true });

    // The receipt notice reaches the reporter through WeChat, verbatim.
    const delivered = await eventually(async () => {
      const msgs = await pushed(openid);
      return msgs.find((m) => textOf(m).includes(RECEIPT) || textOf(m).includes(clueNo));
    }, 90_000, "the receipt notice at the fake WeChat API");
    assert.ok(delivered);
  } finally {
    await b.close();
  }
});
