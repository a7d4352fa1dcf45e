// Director studio: plain JavaScript over the /api endpoints. No build step, no network beyond this server.
"use strict";

const $ = (id) => document.getElementById(id);
const EVENT_TYPES = ["run_started", "queued", "brain", "tool_started", "tool_progress", "tool_finished", "tool_failed",
  "tool_retry", "tool_reused", "checkpoint", "interrupt", "warning", "run_finished"];
// The page keeps no secret: with a token set on the server, it trades the token once for an HttpOnly session
// cookie (POST /api/session) that media elements and EventSource send too. Nothing goes to localStorage.
const state = { run: null, source: null, seq: 0, refreshTimer: null };

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  // A change is JSON from this page's own origin: the server refuses anything else (cross-site requests).
  if (method !== "GET") headers["Content-Type"] = "application/json";
  const payload = method === "GET" ? undefined : JSON.stringify(body === undefined ? {} : body);
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  if (response.status === 401) {
    askToken();
    throw new Error("a token is needed");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

function askToken() {
  $("token-button").hidden = false;
  const dialog = $("token-dialog");
  if (!dialog.open) dialog.showModal();
}
$("token-form").addEventListener("submit", async () => {
  const token = $("token").value.trim();
  $("token").value = "";
  const response = await fetch("/api/session", { method: "POST", credentials: "same-origin",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: "{}" });
  if (!response.ok) { askToken(); return; }
  loadRuns();
  if (state.run) openRun(state.run);
});
$("token-button").addEventListener("click", askToken);

function show(el, on) { el.hidden = !on; }
function fail(el, err) { el.textContent = err ? String(err.message || err) : ""; show(el, !!err); }
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

// -- runs list ----------------------------------------------------------------
async function loadRuns() {
  let runs = [];
  try { runs = await api("/api/runs"); } catch (err) { return; }
  const list = $("runs");
  list.replaceChildren(...runs.map((r) => el("li", {},
    el("button", { type: "button", "aria-current": String(r.id === state.run), onclick: () => openRun(r.id) },
      el("span", { class: "goal", text: r.goal }),
      el("small", { text: `${r.status} · ${r.id}${r.parent ? " · fork" : ""}` })))));
}

// -- uploads ------------------------------------------------------------------
// The server takes files as uploads, never as paths: each one is streamed with its progress shown, and the
// run names it by the id the server gives back.
function uploadFile(file, done, total) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/uploads?name=${encodeURIComponent(file.name)}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      $("upload-progress").value = (done + e.loaded) / total;
      $("upload-status").textContent = `Uploading ${file.name}: ${Math.round(100 * (done + e.loaded) / total)}%`;
    });
    xhr.addEventListener("load", () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { /* shown below */ }
      if (xhr.status === 201) resolve(data.id);
      else reject(new Error(data.error || `upload failed: ${xhr.status}`));
    });
    xhr.addEventListener("error", () => reject(new Error(`the upload of ${file.name} was cut off`)));
    xhr.send(file);
  });
}

async function uploadAll(files) {
  const total = files.reduce((sum, f) => sum + f.size, 0) || 1;
  show($("upload-progress"), true);
  show($("upload-status"), true);
  const ids = [];
  let done = 0;
  try {
    for (const file of files) {
      ids.push(await uploadFile(file, done, total));
      done += file.size;
    }
  } finally {
    show($("upload-progress"), false);
    show($("upload-status"), false);
  }
  return ids;
}

// -- making -------------------------------------------------------------------
$("new-run").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = event.submitter || event.target.querySelector("button[type=submit]");
  button.disabled = true;
  fail($("form-error"), null);
  const body = { goal: $("goal").value, aspect: $("aspect").value, motion: $("motion").value,
    backend: $("backend").value, music: $("music").value, captions: $("captions").value,
    continuity: Number($("continuity").value), approve: $("approve").checked };
  if ($("scenes").value) body.scenes = Number($("scenes").value);
  if ($("title-card").checked) body.title_card = true;
  if ($("end-card").value.trim()) body.end_card = $("end-card").value.trim();
  try {
    const videos = Array.from($("sources").files);
    const music = Array.from($("music-file").files);
    if (videos.length) body.sources = await uploadAll(videos);
    if (music.length) body.music = (await uploadAll(music))[0];
    if (videos.length) {  // a trailer: its scene count is a cap, and likeness to the cast's sheets is a story's
      if (body.scenes) { body.max_scenes = body.scenes; delete body.scenes; }
      delete body.continuity;
    }
    const run = await api("/api/runs", { method: "POST", body });
    await openRun(run.id, run);
    loadRuns();
  } catch (err) {
    fail($("form-error"), err);
  } finally {
    button.disabled = false;
  }
});

// -- one run ------------------------------------------------------------------
async function openRun(id, known) {
  show($("batch"), false);
  state.batch = null;
  if (state.batchSource) { state.batchSource.close(); state.batchSource = null; }
  if (state.run !== id) {
    state.run = id;
    state.seq = 0;
    $("log").replaceChildren();
    $("player").removeAttribute("src");
    $("player").replaceChildren();
    $("player").dataset.final = "";
  }
  history.replaceState(null, "", `#run=${encodeURIComponent(id)}`);
  show($("empty"), false);
  show($("run"), true);
  render(known || await api(`/api/runs/${encodeURIComponent(id)}`));
  follow();
  loadHistory();
  for (const b of document.querySelectorAll("#runs button")) b.setAttribute("aria-current", "false");
  if (matchMedia("(max-width: 800px)").matches) $("main").focus();  // on a phone the run is below the form
}

function render(run) {
  $("run-title").textContent = run.goal;
  const status = $("run-status");
  status.textContent = run.status;
  status.className = `badge ${run.status}`;
  $("run-cost").textContent = `· $${(run.cost_usd || 0).toFixed(2)}${run.budget_usd != null ? ` of $${run.budget_usd.toFixed(2)}` : ""} · ${run.backend} · ${run.id}`;
  $("run-parent").textContent = run.parent ? `· fork of ${run.parent}` : "";
  fail($("run-error"), run.error && run.status !== "paused" ? run.error : null);
  show($("resume"), ["interrupted", "failed", "stopped", "cancelled"].includes(run.status));
  show($("cancel"), ["running", "paused"].includes(run.status));

  const pending = run.pending;
  show($("approval"), !!pending);
  if (pending) {
    const parts = Object.entries(pending.by_tool || {}).map(([tool, usd]) => `${tool} $${Number(usd).toFixed(2)}`);
    $("quote").textContent = `The paid steps cost about $${Number(pending.quote_usd || 0).toFixed(2)}` +
      (parts.length ? ` (${parts.join(", ")})` : "") + (pending.cap_usd != null ? `, past the cap of $${pending.cap_usd.toFixed(2)}` : "") + ".";
  }

  const shape = run.aspect === "9:16" ? "portrait" : run.aspect === "1:1" ? "square" : "";
  $("board").replaceChildren(...run.scenes.map((s) => el("li", { class: `card ${shape}`, "data-scene": String(s.number), "data-status": s.status },
    el("div", { class: "pic" }, s.image ? el("img", { src: s.image, alt: `Scene ${s.number}: ${s.prompt}`, loading: "lazy" })
      : document.createTextNode("waiting for the picture")),
    el("div", { class: "body" },
      el("div", {}, el("b", { text: `Scene ${s.number} ` }), el("span", { class: `badge ${s.status}`, text: s.status })),
      el("p", { class: "prompt", text: s.prompt }),
      el("p", { class: "narration", text: s.narration ? `“${s.narration}”` : "" }),
      s.continuity ? el("p", { class: `likeness ${s.continuity.passed ? "ok" : "low"}`,
        title: (s.continuity.reasons || []).join("\n"),
        text: `Likeness to the cast's sheets: ${Number(s.continuity.score).toFixed(2)}` +
          (s.continuity.retakes ? ` (redrawn ${s.continuity.retakes}×)` : "") }) : null,
      s.error ? el("p", { class: "error", text: s.error }) : null))));

  const player = $("player");
  show($("player-box"), !!run.final);
  if (run.final && player.dataset.final !== run.final) {
    player.dataset.final = run.final;
    player.src = run.final;
    player.replaceChildren(el("track", { kind: "subtitles", label: "English", srclang: "en", src: run.subtitles, default: "" }));
  }
}

function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(async () => {
    if (!state.run) return;
    try { render(await api(`/api/runs/${encodeURIComponent(state.run)}`)); } catch (err) { /* shown on the next action */ }
  }, 150);
}

// The history follows the run: a new checkpoint or a pause reloads it (at most every 400 ms).
function historySoon() {
  clearTimeout(state.historyTimer);
  state.historyTimer = setTimeout(loadHistory, 400);
}

function logLine(event) {
  const what = event.label || event.note || event.message || event.status || event.reason || "";
  const line = el("li", { text: `#${event.seq} ${event.type}${what ? ": " + what : ""}${event.error ? " — " + event.error : ""}` });
  $("log").append(line);
}

function follow() {
  if (state.source) state.source.close();
  const id = state.run;
  const source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events?after=${state.seq}`);
  state.source = source;
  const onEvent = (message) => {
    const event = JSON.parse(message.data);
    if (id !== state.run) return;
    state.seq = Math.max(state.seq, Number(message.lastEventId) || event.seq || 0);
    logLine(event);
    if (["tool_finished", "tool_reused", "checkpoint", "interrupt", "run_finished", "run_started", "tool_failed"].includes(event.type)) refreshSoon();
    if (["checkpoint", "interrupt"].includes(event.type)) historySoon();
    if (event.type === "run_finished") {
      // This part of the run is over; the run itself may have gone on since (a resume): look, and follow on.
      source.close();
      if (state.source === source) state.source = null;
      clearTimeout(state.historyTimer);
      recover(id);
    }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
  source.onerror = () => {
    // The server ends the stream after run_finished or when nobody drives the run; it also drops it when it
    // stops or restarts. Either way: do not spin, but look again (backing off while the server is away) and
    // follow once more if the run still goes on.
    source.close();
    if (state.source === source) state.source = null;
    recover(id);
  };
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function recover(id) {
  for (let wait = 500; id === state.run && !state.source; wait = Math.min(wait * 2, 5000)) {
    let run = null;
    try { run = await api(`/api/runs/${encodeURIComponent(id)}`); } catch (err) { await sleep(wait); continue; }
    if (id !== state.run || state.source) return;
    render(run);
    loadRuns();
    loadHistory();
    if (!["running", "queued"].includes(run.status)) return;
    await sleep(1000);  // a run still going: follow it again, no faster than once a second
    if (id === state.run && !state.source) follow();
    return;
  }
}

async function act(path, body) {
  fail($("action-error"), null);
  try {
    const run = await api(`/api/runs/${encodeURIComponent(state.run)}/${path}`, { method: "POST", body });
    render(run);
    follow();
    loadRuns();
    return run;
  } catch (err) {
    fail($("action-error"), err);
    return null;
  }
}

$("approve-yes").addEventListener("click", () => act("approve", { answer: "yes" }));
$("approve-no").addEventListener("click", () => act("approve", { answer: "no" }));
$("approve-change").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("change").value.trim();
  if (text) act("approve", { answer: text }).then((run) => { if (run) $("change").value = ""; });
});
$("chat").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("say").value.trim();
  if (text) act("messages", { text }).then((run) => { if (run) $("say").value = ""; });
});
$("resume").addEventListener("click", () => act("resume", {}));
$("cancel").addEventListener("click", () => act("cancel"));

// -- history --------------------------------------------------------------------
async function loadHistory() {
  if (!state.run) return;
  let rows = [];
  try { rows = await api(`/api/runs/${encodeURIComponent(state.run)}/history`); } catch (err) { return; }
  $("history").replaceChildren(...rows.filter((r) => r.checkpoint && r.node !== "fork").map((r) => el("li", {},
    el("span", { class: "what" }, el("code", { text: `${r.step ?? ""} ${r.node} ` }), document.createTextNode(r.change || ""),
      r.forks && r.forks.length ? el("small", { text: ` → ${r.forks.join(", ")}` }) : null),
    el("span", { class: "row" },
      r.next && r.next.length ? el("button", { type: "button", "aria-label": `Replay from step ${r.step}`, onclick: () => act("replay", { from: r.checkpoint }), text: "Replay" }) : null,
      el("button", { type: "button", "aria-label": `Fork from step ${r.step}`, onclick: () => forkFrom(r.checkpoint), text: "Fork" })))));
}

async function forkFrom(checkpoint) {
  fail($("action-error"), null);
  const say = $("fork-change").value.trim();
  try {
    const run = await api(`/api/runs/${encodeURIComponent(state.run)}/fork`, { method: "POST", body: say ? { from: checkpoint, say } : { from: checkpoint } });
    $("fork-change").value = "";
    await openRun(run.id, run);
    loadRuns();
  } catch (err) {
    fail($("action-error"), err);
  }
}

// -- start ------------------------------------------------------------------------
loadRuns();
const linked = new URLSearchParams(location.hash.slice(1)).get("run");
if (linked) openRun(linked).catch(() => {});

// -- batches ------------------------------------------------------------------
// Many goals at once, under one budget: POST /api/batches, then its rows' statuses as its events come in.
async function loadBatches() {
  let batches = [];
  try { batches = await api("/api/batches"); } catch (err) { return; }
  $("batches").replaceChildren(...batches.map((b) => el("li", {},
    el("button", { type: "button", onclick: () => openBatch(b.id) },
      el("span", { class: "goal", text: b.id }),
      el("small", { text: `${b.good} of ${b.rows} rows${b.running ? " · running" : ""}` })))));
}

$("new-batch").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail($("batch-error"), null);
  const rows = $("batch-goals").value.split("\n").map((goal) => goal.trim()).filter(Boolean).map((goal) => ({ goal }));
  const body = { rows, concurrency: Number($("batch-concurrency").value || 2) };
  if ($("batch-budget").value !== "") body.budget = Number($("batch-budget").value);
  try {
    const batch = await api("/api/batches", { method: "POST", body });
    $("batch-goals").value = "";
    loadBatches();
    openBatch(batch.id, batch);
  } catch (err) { fail($("batch-error"), err); }
});

async function openBatch(id, known) {
  state.run = null;
  if (state.source) { state.source.close(); state.source = null; }
  state.batch = id;
  show($("empty"), false);
  show($("run"), false);
  show($("batch"), true);
  history.replaceState(null, "", `#batch=${encodeURIComponent(id)}`);
  renderBatch(known || await api(`/api/batches/${encodeURIComponent(id)}`));
  if (state.batchSource) state.batchSource.close();
  const source = new EventSource(`/api/batches/${encodeURIComponent(id)}/events`, { withCredentials: true });
  state.batchSource = source;
  const again = async () => {
    if (state.batch !== id) return;
    renderBatch(await api(`/api/batches/${encodeURIComponent(id)}`));
    loadRuns();  // a batch's runs are runs like any other
  };
  for (const type of ["row_started", "row_finished", "batch_finished"]) source.addEventListener(type, again);
  source.onerror = () => { source.close(); if (state.batchSource === source) state.batchSource = null; again(); loadBatches(); };
}

function renderBatch(batch) {
  $("batch-title").textContent = `Batch ${batch.id}`;
  $("batch-status").textContent = batch.status;
  $("batch-status").className = `badge ${batch.status}`;
  $("batch-cost").textContent = `· $${(batch.cost_usd || 0).toFixed(2)}${batch.budget_usd != null ? ` of $${batch.budget_usd.toFixed(2)}` : ""} · ${batch.concurrency} at once`;
  show($("batch-resume"), batch.status === "unfinished");
  $("batch-rows").replaceChildren(...batch.rows.map((r) => el("tr", {},
    el("td", { text: String(r.line) }),
    el("td", { class: "goal" }, r.run ? el("a", { href: `#run=${encodeURIComponent(r.run_id)}`,
      onclick: (e) => { e.preventDefault(); openRun(r.run_id); }, text: r.goal }) : document.createTextNode(r.goal || "")),
    el("td", { text: r.error && r.status !== "done" ? `${r.status}: ${r.error}` : r.status }),
    el("td", { text: r.seconds ? `${r.seconds.toFixed(1)} s` : "" }),
    el("td", { text: `$${(r.cost_usd || 0).toFixed(2)}` }))));
}

$("batch-resume").addEventListener("click", async () => {
  if (!state.batch) return;
  try { renderBatch(await api(`/api/batches/${encodeURIComponent(state.batch)}/resume`, { method: "POST" })); openBatch(state.batch); }
  catch (err) { fail($("batch-error"), err); }
});

loadBatches();
if (location.hash.startsWith("#batch=")) openBatch(decodeURIComponent(location.hash.slice(7)));
