// A citizen reports through the guided chat only (signed, encrypted callbacks as WeChat sends
// them) and gets the receipt notice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { eventually, newUser, pushed, sim, textOf } from "./stack.mjs";

const RECEIPT = "您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。感谢您对国土资源工作的支持！";

async function say(openid, content) {
  const out = await sim("POST", "/_sim/chat", { openid, type: "text", content });
  const reply = out.reply ?? out;
  return typeof reply === "string" ? reply : reply?.content ?? JSON.stringify(out);
}

test("a reporter files a clue through the guided chat alone", async () => {
  const openid = await newUser("e2e-chat");
  assert.match(await say(openid, "举报"), /发生地/);
  assert.match(await say(openid, "浙江省杭州市西湖区"), /详细地址/);
  assert.match(await say(openid, "转塘街道某村北侧山体"), /违法主体/);
  assert.match(await say(openid, "无"), /违法事实/);
  assert.match(await say(openid, "有人在山上非法开采石料，每天有卡车运出。"), /照片/);
  assert.match(await say(openid, "完成"), /同意/);
  const done = await say(openid, "同意");
  const clueNo = (done.match(/330106-\d{8}-\d{4,}/) ?? [])[0];
  assert.ok(clueNo, `the reply names the clue number: ${done}`);
  await eventually(async () => (await pushed(openid)).some((m) => textOf(m).includes(RECEIPT) || textOf(m).includes(clueNo)),
    90_000, "the receipt notice");
});
