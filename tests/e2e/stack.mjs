// Helpers shared by the end-to-end tests: where the stack runs (set by tests/e2e/run), the
// WeChat simulator's control API, and a headless Chromium.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

export const API = process.env.E2E_API ?? "http://127.0.0.1:3000";
export const SIM = process.env.E2E_SIM ?? "http://127.0.0.1:9010";
export const SHOTS = process.env.E2E_SHOTS ?? ".dev/e2e";

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
