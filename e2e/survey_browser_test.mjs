// Takes part in an open survey the way a person would, in headless system
// Chromium: consent, clicks and keys, a reload in the middle, a phone-sized
// run. Run by survey_browser_test.sh, which starts the server and checks the
// stored answers against RESULT (what was clicked, per position).
// Env: WEB (http://host:port), SURVEY, SHOTS (screenshot dir), RESULT (JSON
// out), CHROMIUM (binary), LABELS (the systems' labels, never to be sent).
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const { WEB, SURVEY, SHOTS, RESULT, CHROMIUM, LABELS } = process.env;
const PAGE = `${WEB}/s/${SURVEY}`;
const API = `/api/s/${SURVEY}`;

function check(cond, what) {
  if (!cond) throw new Error(what);
}
const ok = (what) => console.log("ok: " + what);

// Answer patterns by position; each covers A, B and neither somewhere.
const PATTERNS = [
  ["A", "B", "neither"],
  ["B", "neither", "A"],
  ["neither", "A", "B"],
  ["A", "A", "B"],
  ["B", "B", "neither"],
];
// Keys for the keyboard pair: letter and digit shortcuts both.
const KEYS = { A: "a", B: "2", neither: "n" };

// GET through the page, so it carries the page's own cookie: the exact text
// the browser receives.
const fetchText = (page, path) =>
  page.evaluate(async (url) => {
    const r = await fetch(url, { credentials: "same-origin" });
    return `${r.status} ${await r.text()}`;
  }, API + path);
async function fetchJson(page, path) {
  const text = await fetchText(page, path);
  check(text.startsWith("200 "), `GET ${path}: ${text}`);
  return JSON.parse(text.slice(4));
}

async function shot(page, name) {
  const path = `${SHOTS}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

// Both pictures decoded (the tiny model's PNGs), so screenshots show them.
async function imagesLoaded(page) {
  await page.waitForFunction(() =>
    ["image-a", "image-b"].every((id) => {
      const img = document.getElementById(id);
      return img.complete && img.naturalWidth > 0;
    }));
}

// The page state of one pair, checked against the server's view of it.
async function expectPair(page, position, total) {
  await page.locator("#pair").waitFor({ state: "visible" });
  await page.locator("#progress-text").filter({ hasText: `Pair ${position + 1} of ${total}` }).waitFor();
  const width = await page.$eval("#progress-bar", (e) => parseFloat(e.style.width));
  check(Math.abs(width - (100 * position) / total) < 0.01, `progress bar at ${width}%, want ${(100 * position) / total}%`);
  const server = await fetchJson(page, `/pairs/${position}`);
  const prompt = await page.textContent("#prompt");
  check(prompt === server.prompt, `page shows prompt ${JSON.stringify(prompt)}, server has ${JSON.stringify(server.prompt)}`);
  const shotType = await page.textContent("#shot-type");
  check(!server.shotType || shotType.toLowerCase().startsWith(server.shotType), `shot type "${shotType}" vs ${server.shotType}`);
  const checked = await page.$$eval("#questions input:checked", (l) => l.length);
  check(checked === 0, `pair ${position + 1} starts with ${checked} answers already ticked`);
  check(await page.isDisabled("#next"), "Next is enabled before any answer");
  await imagesLoaded(page);
  return prompt;
}

const current = (page) => page.$$eval("#questions fieldset", (sets) => sets.findIndex((s) => s.classList.contains("current")));

// Answers by clicking (or tapping: how) the option labels; the radio itself
// is invisible.
async function answerByClicking(page, answers, how = "click") {
  for (const [q, value] of answers.entries()) {
    check((await current(page)) === q, `question ${q + 1} is not the highlighted one`);
    check(await page.isDisabled("#next"), `Next enabled with ${q} of 3 answers`);
    await page.locator("#questions fieldset").nth(q).locator(`label:has(input[value="${value}"])`)[how]();
    check(await page.isChecked(`input[name="q${q}"][value="${value}"]`), `clicking ${value} did not tick question ${q + 1}`);
  }
  check(await page.isEnabled("#next"), "Next still disabled after three answers");
}

async function answerByKeys(page, answers) {
  for (const [q, value] of answers.entries()) {
    check((await current(page)) === q, `question ${q + 1} is not the highlighted one`);
    await page.keyboard.press(KEYS[value]);
    check(await page.isChecked(`input[name="q${q}"][value="${value}"]`), `key ${KEYS[value]} did not tick ${value} on question ${q + 1}`);
  }
  check(await page.isEnabled("#next"), "Next still disabled after three keyed answers");
}

// Neither the labels nor any field beyond the documented ones reach the page.
async function expectNoLabels(page) {
  for (const path of ["/info", "/session", "/pairs/0"]) {
    const text = await fetchText(page, path);
    check(text.startsWith("200 "), `GET ${path}: ${text}`);
    for (const label of LABELS.split(",")) {
      check(!new RegExp(`\\b${label}\\b`).test(text), `GET ${path} leaks the system label "${label}": ${text}`);
    }
  }
  const keys = Object.keys(await fetchJson(page, "/pairs/0")).sort().join(",");
  check(keys === "imageA,imageB,position,prompt,shotType,total", `pairs/0 has fields ${keys}`);
  ok(`no system label (${LABELS}) in info, session or pairs/0`);
}

// Page errors, console errors (CSP violations among them) and HTTP errors
// (429s too). Two are expected: the first /session before joining is 401 by
// design, and there is no favicon. Failed loads also log a console error
// without the URL, so those are judged by the response instead.
// Also short timeouts (a stuck page fails in seconds) and a record of the
// page, for a screenshot of wherever a check fails.
let lastPage = null;
// Rate-limit answers the test itself injects (see desktop(), position 3).
let injected429 = 0;

function watchErrors(page, errors) {
  lastPage = page;
  page.setDefaultTimeout(10000);
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
  });
  let joined = false;
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith("/join")) joined = true;
    const expected = (path === `${API}/session` && r.status() === 401 && !joined) || path === "/favicon.ico" ||
      (path === `${API}/answers` && r.status() === 429 && injected429 > 0);
    if (r.status() >= 400 && !expected) errors.push(`HTTP ${r.status()} ${r.request().method()} ${path}`);
  });
}

async function consent(page, screenshot, how = "click", beforeAgreeing = async () => {}) {
  await page.goto(PAGE);
  await page.locator("#consent").waitFor({ state: "visible" });
  check((await page.textContent("#consent-text")).length > 20, "consent text is empty");
  check(await page.isHidden("#pair"), "a pair is visible before consent");
  await shot(page, screenshot);
  await beforeAgreeing();
  await page.locator("#agree")[how]();
}

async function desktop(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  watchErrors(page, errors);
  await consent(page, "consent");
  await page.locator("#pair").waitFor({ state: "visible" });
  const session = await fetchJson(page, "/session");
  const total = Number(session.total);
  check(total === 5, `session total ${total}, want 5 (4 pairs + 1 attention check)`);
  check(session.consented === true && Number(session.nextPosition) === 0, `session after consent: ${JSON.stringify(session)}`);
  ok(`consent accepted by click; ${total} pairs to judge`);
  await expectNoLabels(page);

  const done = [];
  for (let position = 0; position < total; position++) {
    if (position === 2) {
      await page.reload();
      const resumed = await fetchJson(page, "/session");
      check(Number(resumed.nextPosition) === 2, `server resumes at ${resumed.nextPosition}, want 2`);
    }
    const prompt = await expectPair(page, position, total);
    if (position === 2) ok(`reload after 2 pairs resumes at "Pair 3 of ${total}" with the server's prompt`);
    if (position === 0) {
      const [a, b] = await Promise.all(["#image-a", "#image-b"].map((s) => page.locator(s).boundingBox()));
      check(Math.abs(a.y - b.y) < 1 && b.x > a.x + a.width - 1, "desktop: pictures A and B are not side by side");
      await shot(page, "pair");
    }
    // Pair 4: the first save meets the rate limit (429, Retry-After: 1), the
    // second loses its response after the server stored it; the page must
    // retry both by itself, and the answers be stored once (checked in the
    // export: exactly three rows per position).
    let saves = 0;
    if (position === 3) {
      await page.route(`**${API}/answers`, async (route) => {
        saves++;
        if (saves === 1) {
          injected429++;
          return route.fulfill({ status: 429, headers: { "Retry-After": "1" }, contentType: "application/json",
            body: '{"error":"too many requests: slow down"}' });
        }
        if (saves === 2) {
          await route.fetch();
          return route.abort("connectionreset");
        }
        return route.continue();
      });
    }
    const answers = PATTERNS[position % PATTERNS.length];
    const byKeys = position === 2;
    if (byKeys) {
      await answerByKeys(page, answers);
      await page.keyboard.press("Enter");
    } else {
      await answerByClicking(page, answers);
      await page.click("#next");
    }
    done.push({ position, prompt, answers });
    if (position + 1 < total) {
      await page.locator("#progress-text").filter({ hasText: `Pair ${position + 2} of ${total}` }).waitFor();
    }
    if (position === 3) {
      await page.unroute(`**${API}/answers`);
      check(saves === 3, `pair 4 was sent ${saves} time(s), want 3 (a 429, a lost response, the replay)`);
      ok("pair 4: the page waited out a 429 and resent after a lost response by itself");
    }
    const how = byKeys ? `keys ${answers.map((a) => KEYS[a]).join("/")} + Enter` : "clicks";
    ok(`pair ${position + 1}/${total} answered ${answers.join("/")} by ${how}`);
  }
  await page.locator("#thanks").waitFor({ state: "visible" });
  check(await page.isHidden("#pair"), "the pair stays visible on the thanks screen");
  await shot(page, "thanks");
  const finished = await fetchJson(page, "/session");
  check(finished.finished === true, `server session not finished: ${JSON.stringify(finished)}`);
  await page.reload();
  await page.locator("#thanks").waitFor({ state: "visible" });
  ok("thanks screen shown, and again after a reload; the server says finished");
  check(errors.length === 0, `desktop: browser errors:\n${errors.join("\n")}`);
  await context.close();
  return { questionKeys: session.questions.map((q) => q.key), done };
}

async function noHorizontalOverflow(page, where) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
  }));
  check(scroll <= inner, `phone ${where}: page is ${scroll}px wide in a ${inner}px window`);
}

async function phone(browser) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const page = await context.newPage();
  const errors = [];
  watchErrors(page, errors);
  await consent(page, "phone-consent", "tap", () => noHorizontalOverflow(page, "consent"));
  // The tap starts join + consent; the session exists once the pair shows.
  await page.locator("#pair").waitFor({ state: "visible" });
  const total = Number((await fetchJson(page, "/session")).total);
  const prompt = await expectPair(page, 0, total);
  await noHorizontalOverflow(page, "pair");
  const [a, b] = await Promise.all(["#image-a", "#image-b"].map((s) => page.locator(s).boundingBox()));
  check(b.y >= a.y + a.height - 1, "phone: pictures A and B are not stacked");
  // Comparing needs both in view at once (scrolled, not side by side).
  check(b.y + b.height - a.y <= 844, `phone: pictures A and B span ${b.y + b.height - a.y}px, taller than the screen`);
  await shot(page, "phone-pair");
  const answers = PATTERNS[1];
  await answerByClicking(page, answers, "tap");
  await page.locator("#next").tap();
  await page.locator("#progress-text").filter({ hasText: `Pair 2 of ${total}` }).waitFor();
  await noHorizontalOverflow(page, "second pair");
  check(errors.length === 0, `phone: browser errors:\n${errors.join("\n")}`);
  ok("phone 390x844: consent + 1 pair by taps, no horizontal overflow, pictures stacked and both fit the screen");
  await context.close();
  return [{ position: 0, prompt, answers }];
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
let failed = false;
try {
  ok(`headless Chromium ${browser.version()}`);
  const { questionKeys, done } = await desktop(browser);
  const phoneDone = await phone(browser);
  writeFileSync(RESULT, JSON.stringify({ questionKeys, desktop: done, phone: phoneDone }, null, 1));
} catch (e) {
  console.error(`FAIL: ${e.message}`);
  failed = true;
  if (lastPage) await shot(lastPage, "failure").catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
