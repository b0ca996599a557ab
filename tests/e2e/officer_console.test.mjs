// The officer console in a real browser, on clues reporters filed through the simulator's chat:
// a county handler signs in with password and TOTP, finds the clue in the inbox, previews the
// exact acceptance notice and accepts it, and the reporter receives that notice in the
// simulator; the county's leader escalates another clue and the city's leader designates
// another county. Screenshots in .dev/e2e/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { API, SHOTS, browser, eventually, newUser, pushed, say, signIn, textOf } from "./stack.mjs";

const ACCEPT = "您好，杭州市西湖区国土资源主管部门将对您举报的违法线索作进一步核查处理。感谢您对国土资源工作的支持！";

/** A clue filed through the guided chat; its number. */
async function fileByChat(nickname, facts) {
  const openid = await newUser(nickname);
  const text = (content) => say(openid, { type: "text", content });
  await text("举报");
  await text("浙江省杭州市西湖区");
  await text("转塘街道某村北侧山体");
  await text("无");
  await text(facts);
  await text("完成");
  const done = await text("同意");
  const clueNo = (done.match(/330106-\d{8}-\d{4,}/) ?? [])[0];
  assert.ok(clueNo, `the reply names the clue number: ${done}`);
  return { openid, clueNo };
}

/** Opens the clue `clueNo` from the inbox tab `state`. */
async function openFromInbox(page, state, clueNo) {
  await page.goto(`${API}/officer/index.html#/inbox?state=${state}`);
  const link = page.locator("table.list a", { hasText: clueNo });
  await link.waitFor({ timeout: 30_000 });
  await link.click();
  await page.waitForSelector("#clue-state");
}

/** Fills and sends an action's form: the first press previews, the second sends. */
async function act(page, action, fill = async () => {}) {
  const form = page.locator(`form.action[data-action="${action}"]`);
  await form.waitFor();
  await fill(form);
  await form.locator("button[type=submit]").click();
  // A successful preview turns the button into the sending one.
  await form.locator("button[type=submit]", { hasText: "确认发送" }).waitFor({ timeout: 30_000 });
  const preview = await form.locator(".outcome").textContent();
  await form.locator("button[type=submit]").click();
  await page.waitForSelector(".flash", { timeout: 30_000 });
  return preview;
}

test("a county handler accepts a chat clue in the console and the reporter gets the notice", async () => {
  const { openid, clueNo } = await fileByChat("e2e-officer-accept", "有人在山上非法开采石料，每天有卡车运出。");
  const b = await browser();
  try {
    const { page, errors } = await signIn(b, "xh-handler");
    await openFromInbox(page, "received", clueNo);
    assert.equal((await page.textContent("#clue-state")).trim(), "待判定");
    assert.match(await page.textContent("main"), /判定告知期限/);
    await page.screenshot({ path: `${SHOTS}/officer-clue.png`, fullPage: true });

    // The officer sees the exact notice before it is sent.
    const preview = await act(page, "judge");
    assert.ok(preview.includes(ACCEPT), preview);
    assert.equal((await page.textContent("#clue-state")).trim(), "核查中");
    await page.screenshot({ path: `${SHOTS}/officer-accepted.png`, fullPage: true });

    // The reporter receives it in WeChat (the simulator), once.
    await eventually(async () => (await pushed(openid)).some((m) => textOf(m).includes("将对您举报的违法线索作进一步核查处理")),
      90_000, "the acceptance notice at the simulator");
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
  }
});

test("the county's leader escalates a clue and the city's leader designates another county", async () => {
  const { clueNo } = await fileByChat("e2e-officer-escalate", "两区交界处山体被挖，不清楚属于哪个区。");
  const b = await browser();
  try {
    const county = await signIn(b, "xh-leader");
    await openFromInbox(county.page, "received", clueNo);
    await act(county.page, "escalate", (form) => form.locator("textarea[name=reason]").fill("位于两区交界，管辖不明"));
    assert.equal((await county.page.textContent("#clue-state")).trim(), "已提请上级");

    const city = await signIn(b, "hz-leader");
    await openFromInbox(city.page, "escalated", clueNo);
    await act(city.page, "designate", async (form) => {
      await form.locator("input[name=to]").fill("land-330110");
      await form.locator("textarea[name=reason]").fill("经核实位于余杭区");
    });
    assert.equal((await city.page.textContent("#clue-state")).trim(), "待判定");
    assert.match(await city.page.textContent("main"), /余杭区/);
    await city.page.screenshot({ path: `${SHOTS}/officer-designated.png`, fullPage: true });
    assert.deepEqual([...county.errors, ...city.errors], []);
  } finally {
    await b.close();
  }
});

test("a bureau admin creates an officer, sees the temporary password once, and disables them", async () => {
  const b = await browser();
  try {
    const { page, errors } = await signIn(b, "zj-supervisor");
    await page.goto(`${API}/officer/index.html#/admin`);
    await page.waitForSelector("#new-officer");
    await page.fill("#new-officer input[name=username]", "e2e-new-officer");
    await page.check("#new-officer input[value=handler]");
    await page.click("#new-officer button[type=submit]");
    const flash = await page.locator("#admin-result .flash").textContent({ timeout: 30_000 });
    assert.match(flash, /临时密码：\S+/);
    const id = (flash.match(/（([^）]+)）/) ?? [])[1];
    assert.ok(id, flash);
    const row = page.locator(`tr[data-officer="${id}"]`);
    assert.equal((await row.locator(".status").textContent()).trim(), "在职");
    await row.locator("button[data-action=disable]").click();
    await page.locator(`tr[data-officer="${id}"] button[data-action=enable]`).waitFor({ timeout: 30_000 });
    assert.equal((await page.locator(`tr[data-officer="${id}"] .status`).textContent()).trim(), "已停用");
    await page.screenshot({ path: `${SHOTS}/officer-admin.png`, fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
  }
});
