// Issue 14: a reminder the sweep pushes to an officer's WeChat links into the console. A county
// handler binds a simulator WeChat user with the console's code; a clue filed through the chat
// is left unjudged; the sweep, fired through the local host with a clock a month ahead, records
// the missed judgment deadline and pushes the bureau's overdue reminder; the officer opens the
// reminder's link (REMINDER_PAGE_URL, `#/reminders/<id>`) in a new tab of the signed-in browser
// and lands on that clue.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { API, CONTROL, SHOTS, browser, eventually, fileByChat, newUser, pushed, say, signIn } from "./stack.mjs";

const BOUND = "绑定成功。今后的办理提醒将推送到此微信；解除绑定请在办理系统中操作。";

test("a pushed reminder's link opens that reminder's clue in the console", async () => {
  const { clueNo } = await fileByChat("e2e-reminder-link", "农田里有人在盖房子，已经打好了地基。");
  const b = await browser();
  try {
    const { page, errors } = await signIn(b, "xh-handler");

    // The officer binds a WeChat user with the code the console shows.
    await page.goto(`${API}/officer/index.html#/binding`);
    await page.locator("#view .buttons button").first().click();
    const command = (await page.locator("#view p.code").textContent({ timeout: 30_000 })).trim();
    assert.match(command, /^绑定 \S+$/);
    const wx = await newUser("e2e-officer-wechat");
    assert.equal(await say(wx, { type: "text", content: command }), BOUND);

    // The sweep a month later: the clue's judgment deadline passed unmet.
    const stack = JSON.parse(readFileSync(".dev/stack.json", "utf8"));
    const schedule = stack.resources.DeadlineSweepFunctionSweep.ref;
    const at = new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
    const fired = await fetch(`${CONTROL}/schedules/${encodeURIComponent(schedule)}/fire?at=${at}`, { method: "POST" });
    const run = await fired.json();
    assert.equal(run.outcome, "ok", JSON.stringify(run));
    assert.ok(run.response.missed >= 1, JSON.stringify(run.response));

    // The bureau's overdue reminder of this clue reaches the bound WeChat, with its link.
    const push = await eventually(
      async () => (await pushed(wx)).find((m) => m.kind === "subscribe" && JSON.stringify(m.body.data).includes(clueNo)),
      90_000, "the reminder at the officer's WeChat");
    assert.equal(push.body.data.phrase2.value, "已逾期");
    const link = push.body.page;
    assert.ok(link.startsWith(`${API}/officer/index.html#/reminders/r`), link);

    // Opened like WeChat opens it: a new tab, signed in through the refresh cookie only.
    const tab = await page.context().newPage();
    tab.on("pageerror", (e) => errors.push(e.message));
    await tab.goto(link);
    await tab.waitForURL(/#\/clue\//, { timeout: 30_000 });
    await tab.waitForSelector("#clue-state");
    assert.match(await tab.textContent("main"), new RegExp(clueNo));
    assert.match(await tab.textContent("main"), /期限逾期/);
    await tab.screenshot({ path: `${SHOTS}/officer-reminder-link.png`, fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await b.close();
  }
});
