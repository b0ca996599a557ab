// The officer console's sign-in in a real browser: a newcomer's first sign-in (temporary
// password, new password, TOTP enrolment from the QR page), the console shell reached through
// the refresh cookie, sign-out ending the session; a seeded officer signs in with password and
// the TOTP code of their authenticator. Screenshots in .dev/e2e/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { API, SHOTS, browser, signInOnPage, totp } from "./stack.mjs";

test("a newcomer signs in for the first time, enrols TOTP, reaches the console and signs out", async () => {
  const b = await browser();
  try {
    const page = await b.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

    // without a session the console sends the officer to the sign-in page
    await page.goto(`${API}/officer/index.html`);
    await page.waitForURL(/\/officer\/login\.html/);
    await page.fill("#sign-in input[name=username]", "xh-newcomer");
    await page.fill("#sign-in input[name=password]", "Temp-12336-first");
    await page.click("#sign-in button");

    // the temporary password must be changed
    await page.waitForSelector("#change-password:not([hidden])");
    // (the form itself wants 12 characters; the server's policy also wants letters and digits)
    await page.fill("#change-password input[name=new_password]", "nur-buchstaben-lang");
    await page.fill("#change-password input[name=repeat]", "nur-buchstaben-lang");
    await page.click("#change-password button");
    await page.waitForSelector("#message:not([hidden])");
    assert.match(await page.textContent("#message"), /字母和数字/);
    await page.fill("#change-password input[name=new_password]", "Neues-Passwort-2026");
    await page.fill("#change-password input[name=repeat]", "Neues-Passwort-2026");
    await page.click("#change-password button");

    // TOTP enrolment: the QR code and the secret; the authenticator's code completes it
    await page.waitForSelector("#enrol-totp:not([hidden])");
    const qr = await page.getAttribute("#qr", "src");
    assert.match(qr, /^data:image\/svg\+xml/);
    const loaded = await page.$eval("#qr", (img) => img.complete && img.naturalWidth > 0);
    assert.ok(loaded, "the QR image renders under the page's CSP");
    await page.screenshot({ path: `${SHOTS}/officer-enrol-totp.png`, fullPage: true });
    const secret = (await page.textContent("#secret")).trim();
    await page.fill("#enrol-totp input[name=code]", totp(secret));
    await page.click("#enrol-totp button");

    // the console shell, its token from the refresh cookie (the token itself is never stored)
    await page.waitForURL(/\/officer\/index\.html/);
    await page.waitForFunction(() => !document.querySelector("#view").textContent.includes("正在加载"));
    await page.screenshot({ path: `${SHOTS}/officer-console.png`, fullPage: true });
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.equal(stored, "{}{}");
    assert.equal(await page.evaluate(() => document.cookie), "", "the refresh cookie is HttpOnly");

    // sign-out revokes: the console sends the officer back to the sign-in page
    await page.click("#sign-out");
    await page.waitForURL(/\/officer\/login\.html/);
    await page.goto(`${API}/officer/index.html`);
    await page.waitForURL(/\/officer\/login\.html/);
    assert.deepEqual(errors.filter((e) => /Content Security Policy/.test(e)), []);
  } finally {
    await b.close();
  }
});

test("a seeded officer signs in with password and TOTP; a wrong code is refused", async () => {
  const officers = JSON.parse(readFileSync(".dev/officers.json", "utf8"));
  const { password, totp_secret: secret } = officers["xh-leader"];
  const b = await browser();
  try {
    const page = await b.newPage();
    await page.goto(`${API}/officer/login.html`);
    await page.fill("#sign-in input[name=username]", "xh-leader");
    await page.fill("#sign-in input[name=password]", password);
    await page.fill("#sign-in input[name=code]", totp(secret) === "000000" ? "111111" : "000000");
    await page.click("#sign-in button");
    await page.waitForSelector("#message:not([hidden])");
    assert.match(await page.textContent("#message"), /用户名、密码或动态验证码错误/);
    await page.screenshot({ path: `${SHOTS}/officer-signin-refused.png`, fullPage: true });

    await signInOnPage(page, "xh-leader", password, secret);
    await page.waitForFunction(() => !document.querySelector("#view").textContent.includes("正在加载"));
    assert.match(page.url(), /\/officer\/index\.html/, "the refresh cookie kept the officer in the console");
  } finally {
    await b.close();
  }
});
