// Helpers shared by the end-to-end tests: where the stack runs (set by tests/e2e/run), the
// WeChat simulator's control API, and a headless Chromium.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";

export const API = process.env.E2E_API ?? "http://127.0.0.1:3000";
export const SIM = process.env.E2E_SIM ?? "http://127.0.0.1:9010";
export const SHOTS = process.env.E2E_SHOTS ?? ".dev/e2e";
/** The local host's control API (schedules fired on demand, invocations). */
export const CONTROL = process.env.E2E_CONTROL ?? "http://127.0.0.1:3001";

export async function sim(method, path, body) {
  const res = await fetch(SIM + path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A new simulated WeChat user. */
export async function newUser(nickname) {
  const user = await sim("POST", "/_sim/users", { nickname });
  return user.openid;
}

/** Waits until `check()` returns a truthy value, or fails after `ms`. */
export async function eventually(check, ms = 60_000, what = "condition") {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** Messages the simulator recorded as pushed to `openid`. */
export async function pushed(openid) {
  const out = await sim("GET", "/_sim/messages?openid=" + encodeURIComponent(openid));
  return Array.isArray(out) ? out : out.messages ?? [];
}

/** Text of a pushed message, whatever its kind (customer-service text or subscribe data). */
export function textOf(message) {
  return [message.content, message.body && JSON.stringify(message.body)].filter(Boolean).join("\n");
}

export async function browser() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--no-first-run", "--disable-sync", "--disable-quic",
    ],
  });
}

/** Sends `body` (e.g. `{type: "text", content}`) from `openid` and returns the reply's text. */
export async function say(openid, body) {
  const out = await sim("POST", "/_sim/chat", { openid, ...body });
  const reply = out.reply ?? out;
  return typeof reply === "string" ? reply : reply?.content ?? JSON.stringify(out);
}

/** The link in `text` that ends with `route` (e.g. `#/mine`), exactly as sent. */
export function linkIn(text, route) {
  const links = text.match(/https?:\/\/[^\s，。）]+/g) ?? [];
  const link = links.find((l) => l.endsWith(route) || l.includes(route));
  if (!link) throw new Error(`no link to ${route} in: ${text}`);
  return link;
}

/** RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret at step `step`. */
export function totp(secret, step = Math.floor(Date.now() / 30_000)) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * Signs an officer in on the open sign-in page with password and the authenticator's code. A
 * code is accepted once: when another test already used this step's code for the officer, the
 * sign-in is refused and the next step's code is taken.
 */
export async function signInOnPage(page, username, password, secret) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await page.fill("#sign-in input[name=username]", username);
    await page.fill("#sign-in input[name=password]", password);
    await page.fill("#sign-in input[name=code]", totp(secret));
    // An earlier refusal's message must not be taken for this attempt's answer.
    await page.evaluate(() => { const m = document.querySelector("#message"); if (m) m.hidden = true; });
    await page.click("#sign-in button");
    const outcome = await Promise.race([
      page.waitForURL(/\/officer\/index\.html/, { timeout: 20_000 }).then(() => "in"),
      page.waitForSelector("#message:not([hidden])", { timeout: 20_000 }).then(() => "refused"),
    ]);
    if (outcome === "in") return;
    await new Promise((r) => setTimeout(r, 30_500 - (Date.now() % 30_000)));
  }
  await page.waitForURL(/\/officer\/index\.html/);
}

/** A clue filed through the guided chat; its number. */
export async function fileByChat(nickname, facts) {
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

/** Signs a demo officer (`.dev/officers.json`) in, in a fresh browser context; page errors collected. */
export async function signIn(b, username) {
  const officers = JSON.parse(readFileSync(".dev/officers.json", "utf8"));
  const { password, totp_secret: secret } = officers[username];
  const context = await b.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${API}/officer/login.html`);
  await signInOnPage(page, username, password, secret);
  await page.waitForURL(/\/officer\/index\.html/);
  return { page, errors };
}
