// The participant page: consent, one pair at a time, thanks. Every text
// from the server goes in through textContent (never innerHTML), so nothing
// a researcher or a participant typed can run as markup.
"use strict";
(() => {
  const survey = decodeURIComponent(location.pathname.split("/")[2] || "");
  const api = "/api/s/" + encodeURIComponent(survey);
  const tokenKey = "dreamshot:token:" + survey;
  const $ = (id) => document.getElementById(id);
  let session = null;
  let pair = null;
  let answers = [];
  let current = 0;
  let shownAt = 0;
  let sending = false;

  function status(text) { $("status").textContent = text || ""; }
  function show(id) {
    for (const s of ["consent", "pair", "thanks"]) $(s).hidden = s !== id;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Retries what the participant cannot fix: the rate limit (a class behind
  // one address shares it; waits as Retry-After says) and a lost connection.
  // Safe for answers too: a resent submission carries the same idempotency
  // key and is stored once.
  async function call(method, path, body) {
    for (let attempt = 1; ; attempt++) {
      let response;
      try {
        response = await send(method, path, body);
      } catch (e) {
        if (attempt >= 4) throw e;
        status("Connection lost — trying again…");
        await sleep(1000 * attempt);
        continue;
      }
      if (response.status !== 429 || attempt >= 6) {
        if (attempt > 1) status("");
        return read(response);
      }
      status("Many people are answering right now — one moment…");
      await sleep(1000 * Math.min(30, Number(response.headers.get("Retry-After")) || attempt));
    }
  }

  async function send(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    const token = localStorage.getItem(tokenKey);
    if (token) headers["Authorization"] = "Bearer " + token;
    return fetch(api + path, {
      method, headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined,
    });
  }

  async function read(response) {
    let data = {};
    try { data = await response.json(); } catch (e) { /* empty body */ }
    if (!response.ok) {
      const error = new Error(data.error || ("HTTP " + response.status));
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function start() {
    try {
      session = await call("GET", "/session");
    } catch (e) {
      if (e.status !== 401) return status(e.message);
      session = null;
    }
    if (session) {
      $("title").textContent = session.title;
      if (session.finished) return show("thanks");
      if (session.consented) return loadPair(Number(session.nextPosition || 0));
    }
    await showConsent();
  }

  async function showConsent() {
    try {
      const info = await call("GET", "/info");
      $("title").textContent = info.title;
      $("consent-text").textContent = info.consentText;
      show("consent");
    } catch (e) { status(e.message); }
  }

  $("agree").addEventListener("click", async () => {
    $("agree").disabled = true;
    try {
      if (!session) {
        const joined = await call("POST", "/join");
        localStorage.setItem(tokenKey, joined.token);
      }
      session = await call("POST", "/consent");
      await loadPair(Number(session.nextPosition || 0));
    } catch (e) {
      status(e.message);
      $("agree").disabled = false;
    }
  });

  function buildQuestions() {
    const form = $("questions");
    form.replaceChildren();
    session.questions.forEach((q, i) => {
      const set = document.createElement("fieldset");
      const legend = document.createElement("legend");
      legend.textContent = q.text;
      set.appendChild(legend);
      const choices = document.createElement("div");
      choices.className = "choices";
      for (const [value, text] of [["A", session.optionA], ["B", session.optionB], ["neither", session.optionNeither]]) {
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "q" + i;
        input.value = value;
        input.addEventListener("change", () => choose(i, value));
        const span = document.createElement("span");
        span.textContent = text;
        label.append(input, span);
        choices.appendChild(label);
      }
      set.appendChild(choices);
      form.appendChild(set);
    });
  }

  function highlight() {
    [...$("questions").children].forEach((set, i) => set.classList.toggle("current", i === current));
    $("next").disabled = answers.some((a) => !a);
  }

  function choose(question, value) {
    answers[question] = value;
    const input = document.querySelector(`input[name="q${question}"][value="${value}"]`);
    if (input) input.checked = true;
    current = answers.findIndex((a) => !a);
    if (current < 0) current = session.questions.length - 1;
    highlight();
  }

  function preload(position) {
    if (position >= session.total) return;
    call("GET", "/pairs/" + position).then((next) => {
      new Image().src = next.imageA;
      new Image().src = next.imageB;
    }).catch(() => {});
  }

  async function loadPair(position) {
    if (position >= session.total) return show("thanks");
    try {
      pair = await call("GET", "/pairs/" + position);
    } catch (e) { return status(e.message); }
    status("");
    if (!$("questions").children.length) buildQuestions();
    answers = session.questions.map(() => null);
    current = 0;
    for (const input of document.querySelectorAll("#questions input")) input.checked = false;
    $("image-a").src = pair.imageA;
    $("image-b").src = pair.imageB;
    $("shot-type").textContent = pair.shotType ? pair.shotType.replace(/^./, (c) => c.toUpperCase()) + " shot:" : "";
    $("prompt").textContent = pair.prompt;
    const done = Number(pair.position);
    $("progress-text").textContent = `Pair ${done + 1} of ${pair.total}`;
    $("progress-bar").style.width = (100 * done / Number(pair.total)) + "%";
    highlight();
    show("pair");
    shownAt = performance.now();
    preload(done + 1);
  }

  async function submit() {
    if (sending || !pair || answers.some((a) => !a)) return;
    sending = true;
    $("next").disabled = true;
    const position = Number(pair.position);
    // One key per pair, kept until it is saved: a retry after a lost
    // response is recognised as the same submission.
    const keyName = tokenKey + ":key:" + position;
    let key = localStorage.getItem(keyName);
    if (!key) {
      key = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now());
      localStorage.setItem(keyName, key);
    }
    try {
      const saved = await call("POST", "/answers", {
        position, answers, idempotencyKey: key, elapsedMs: Math.round(performance.now() - shownAt),
      });
      localStorage.removeItem(keyName);
      if (saved.finished) return show("thanks");
      await loadPair(Number(saved.nextPosition));
    } catch (e) {
      status(e.message + " — please try again.");
      $("next").disabled = false;
    } finally {
      sending = false;
    }
  }

  $("next").addEventListener("click", submit);
  document.addEventListener("keydown", (event) => {
    if ($("pair").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.toLowerCase();
    const value = { a: "A", 1: "A", b: "B", 2: "B", n: "neither", 3: "neither", 0: "neither" }[key];
    if (value) {
      choose(current, value);
      event.preventDefault();
    } else if (key === "enter") {
      submit();
      event.preventDefault();
    }
  });

  start();
})();
