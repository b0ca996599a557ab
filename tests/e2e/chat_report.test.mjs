// A citizen reports through the guided chat only (signed, encrypted callbacks as WeChat sends
// them): a place without a bureau is said at once, markup is refused as the H5 form refuses it,
// the 举报说明 link opens the notice, and the receipt notice's link opens the clue's page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { API, SHOTS, SIM, browser, eventually, linkIn, newUser, pushed, say, textOf } from "./stack.mjs";

const RECEIPT = "您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。感谢您对国土资源工作的支持！";

const text = (openid, content) => say(openid, { type: "text", content });

test("a reporter files a clue through the guided chat alone and opens the links it sent", async () => {
  const openid = await newUser("e2e-chat");
  assert.match(await text(openid, "举报"), /发生地/);
  const notServed = await text(openid, "北京市东城区");
  assert.match(notServed, /北京市东城区的国土资源主管部门暂未接入本平台/);
  assert.match(notServed, /12336/);
  assert.match(await text(openid, "浙江省杭州市西湖区"), /详细地址/);
  assert.match(await text(openid, "<script>alert(1)</script>"), /详细地址不能包含网页代码/);
  assert.match(await text(openid, "转塘街道某村北侧山体"), /违法主体/);
  assert.match(await text(openid, "无"), /违法事实/);
  assert.match(await text(openid, "\u200B\u200B"), /请填写主要违法事实/);
  assert.match(await text(openid, "有人在山上非法开采石料，每天有卡车运出。"), /照片/);
  const consent = await text(openid, "完成");
  assert.match(consent, /同意/);
  const noticeLink = linkIn(consent, "#/notice/330106");
  const done = await text(openid, "同意");
  const clueNo = (done.match(/330106-\d{8}-\d{4,}/) ?? [])[0];
  assert.ok(clueNo, `the reply names the clue number: ${done}`);
  const delivered = await eventually(async () => (await pushed(openid)).find((m) => m.kind === "subscribe" && m.body && m.body.page),
    90_000, "the receipt notice");
  assert.ok(textOf(delivered).includes(clueNo) || textOf(delivered).includes("已接收"), textOf(delivered));

  const b = await browser();
  try {
    // This user's "WeChat browser" (the simulator knows who is signed in to WeChat).
    const context = await b.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN" });
    await context.addCookies([{ name: "sim_user", value: openid, url: SIM }]);
    const page = await context.newPage();
    // The 举报说明 link of the consent step, as sent.
    await page.goto(noticeLink);
    await page.waitForSelector("#notice-text", { timeout: 30_000 });
    assert.match(await page.textContent("#notice-text"), /本平台不接收以下情形的举报/);
    // The receipt notice's link, as sent: through sign-in, back to the clue's page.
    await page.goto(delivered.body.page);
    await page.waitForSelector("#notices", { timeout: 30_000 });
    assert.equal(page.url(), delivered.body.page);
    assert.ok(page.url().startsWith(API + "/h5/index.html#/notices/"), page.url());
    assert.match(await page.textContent("h2"), new RegExp(clueNo));
    assert.match(await page.textContent("#notices"), new RegExp(RECEIPT.slice(0, 20)));
    await page.screenshot({ path: `${SHOTS}/chat-notice-link.png`, fullPage: true });
  } finally {
    await b.close();
  }
});
