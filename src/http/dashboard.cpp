// The admin dashboard served at /: one page, its style at /dashboard.css and its script at
// /dashboard.js (the server's Content-Security-Policy allows code from this origin only,
// never inline, so markup that got into a value could not run).
// Its script reads /api/v1/status, /api/v1/stats and /api/v1/history every 30 seconds, and
// posts to /api/v1/jobs/{name}/run and /api/v1/tasks/{name}/run with the token it asks for
// once and keeps in the tab's session storage. Every value goes in as text, never as markup.
#include "housekeep/http.hpp"

namespace housekeep {

namespace {

constexpr std::string_view k_page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>housekeep</title>
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header>
  <h1>housekeep</h1>
  <span id="database" class="muted"></span>
  <span id="updated" class="muted"></span>
  <button id="token" type="button">Set token</button>
</header>
<div id="message" role="status"></div>
<ul id="problems"></ul>
<section>
  <h2>Statistics</h2>
  <div id="stats" class="cards"></div>
  <p id="stats-taken" class="muted"></p>
</section>
<section>
  <h2>Running now</h2>
  <div id="running"><p class="muted">Nothing runs.</p></div>
</section>
<section>
  <h2>Jobs</h2>
  <div class="scroll"><table id="jobs">
    <thead><tr><th></th><th>Job</th><th>Task</th><th>Schedule</th><th>Zone</th><th>Next run</th><th>Last run</th><th>Health</th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>
<section>
  <h2>Tasks</h2>
  <div id="tasks" class="tasks"></div>
</section>
<section>
  <h2>Daemons</h2>
  <div class="scroll"><table id="replicas">
    <thead><tr><th>Host</th><th>PID</th><th>State</th><th>Heartbeat</th><th>Doing</th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>
<section>
  <h2>Recent runs</h2>
  <div class="scroll"><table id="history">
    <thead><tr><th>ID</th><th>Started (UTC)</th><th>Job</th><th>Task</th><th>Status</th><th>Deleted</th><th>Time</th><th>By</th><th>Error</th></tr></thead>
    <tbody></tbody>
  </table></div>
</section>
<script src="/dashboard.js"></script>
</body>
</html>
)html";

constexpr std::string_view k_style =
  R"css(:root { color-scheme: light dark; --line: #8884; --muted: #888; --ok: #2a7d2a; --bad: #c0392b; --warn: #b7791f; }
* { box-sizing: border-box; }
body { font: 15px/1.4 system-ui, sans-serif; margin: 0; padding: 0 1rem 2rem; max-width: 72rem; margin-inline: auto; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1rem; padding: 1rem 0 .5rem;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.muted { color: var(--muted); font-size: .9em; }
#token { margin-left: auto; }
button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line); border-radius: .4rem; cursor: pointer;
  background: transparent; color: inherit; }
button:disabled { opacity: .5; cursor: default; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .6rem .35rem 0; border-bottom: 1px solid var(--line); vertical-align: top;
  white-space: nowrap; }
th { font-weight: 600; font-size: .85em; color: var(--muted); }
td.wrap { white-space: normal; min-width: 12rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: .6rem; }
.card { border: 1px solid var(--line); border-radius: .5rem; padding: .6rem .8rem; }
.card .value { font-size: 1.4rem; font-weight: 600; }
.card .name { color: var(--muted); font-size: .85em; overflow-wrap: anywhere; }
.status-ok { color: var(--ok); }
.status-failed, .status-abandoned, .status-refused, .status-transient, .status-timed-out { color: var(--bad); }
.status-skipped, .status-interrupted, .status-missed, .status-running { color: var(--warn); }
.state-running { color: var(--ok); }
.state-gone, .state-silent { color: var(--bad); }
progress { width: 100%; height: 1rem; }
.run { margin-bottom: .8rem; }
#message { padding: .5rem .8rem; border-radius: .4rem; border: 1px solid var(--line); margin-top: 1rem; }
#message:empty { display: none; }
#problems li { color: var(--bad); }
.tasks { display: flex; flex-wrap: wrap; gap: .5rem; }
)css";

constexpr std::string_view k_script = R"js("use strict";
const tokenKey = "housekeep-token";
const refreshMs = 30000;

function token() { return sessionStorage.getItem(tokenKey) || ""; }

function askToken() {
  const given = window.prompt("The status API's token (the first line of [http] token_file):", "");
  if (given !== null && given.trim() !== "") {
    sessionStorage.setItem(tokenKey, given.trim());
  }
  showToken();
  return token();
}

function showToken() {
  document.getElementById("token").textContent = token() ? "Forget token" : "Set token";
}

function say(text) { document.getElementById("message").textContent = text; }

async function call(path, options) {
  const headers = { "Accept": "application/json" };
  if (token()) { headers["Authorization"] = "Bearer " + token(); }
  if (options && options.body) { headers["Content-Type"] = "application/json"; }
  const response = await fetch(path, Object.assign({ headers: headers, cache: "no-store" }, options || {}));
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  return { status: response.status, body: body };
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) { td.className = className; }
  row.appendChild(td);
  return td;
}

function statusCell(row, status) {
  return cell(row, status || "", status ? "status-" + status : "");
}

function number(n) { return typeof n === "number" ? n.toLocaleString("en-US") : String(n); }

function duration(ms) {
  if (ms < 1000) { return ms + " ms"; }
  const s = ms / 1000;
  if (s < 120) { return s.toFixed(1) + " s"; }
  if (s < 7200) { return Math.round(s / 60) + " min"; }
  return (s / 3600).toFixed(1) + " h";
}

function runButton(kind, name) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = kind === "jobs" ? "Run" : "Run " + name;
  button.dataset.run = kind + "/" + name;
  button.addEventListener("click", () => trigger(kind, name, button));
  return button;
}

async function trigger(kind, name, button) {
  if (!token() && !askToken()) { say("Running needs the token."); return; }
  button.disabled = true;
  try {
    const answer = await call("/api/v1/" + kind + "/" + encodeURIComponent(name) + "/run", { method: "POST", body: "{}" });
    if (answer.status === 401 || answer.status === 403) { sessionStorage.removeItem(tokenKey); showToken(); }
    const error = answer.body && answer.body.error;
    say(answer.status === 202 ? "Started " + name + " (" + answer.body.id + ")."
                              : "Not started (" + answer.status + "): " + (typeof error === "string" ? error : "no answer"));
  } catch (e) {
    say("Not started: " + e);
  } finally {
    button.disabled = false;
    refresh();
  }
}

function renderStats(stats) {
  const box = document.getElementById("stats");
  box.replaceChildren();
  const taken = [];
  for (const entry of stats.stats || []) {
    if (!entry.figures) { continue; }
    taken.push(entry.task + " at " + entry.taken_at);
    for (const [figure, value] of Object.entries(entry.figures)) {
      const card = document.createElement("div");
      card.className = "card";
      card.dataset.task = entry.task;
      card.dataset.figure = figure;
      const v = document.createElement("div");
      v.className = "value";
      v.textContent = number(value);
      v.dataset.value = String(value);
      const n = document.createElement("div");
      n.className = "name";
      n.textContent = figure.replace(/_/g, " ");
      card.append(v, n);
      box.appendChild(card);
    }
  }
  document.getElementById("stats-taken").textContent =
    taken.length ? "Taken by " + taken.join(", ") + "." : "No figures yet: run the stats task.";
}

function renderRunning(running) {
  const box = document.getElementById("running");
  box.replaceChildren();
  if (!running.length) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "Nothing runs.";
    box.appendChild(p);
    return;
  }
  for (const r of running) {
    const div = document.createElement("div");
    div.className = "run";
    div.dataset.task = r.task;
    const title = document.createElement("div");
    title.textContent = (r.job ? r.job + " (" + r.task + ")" : r.task) + " on " + r.host + ", pid " + r.pid + ", since " + r.started_at;
    div.appendChild(title);
    const p = r.progress;
    if (p && typeof p.done === "number") {
      const bar = document.createElement("progress");
      bar.max = Math.max(p.total || 0, p.done, 1);
      bar.value = p.done;
      const line = document.createElement("div");
      line.className = "muted";
      line.textContent = p.task + ": " + number(p.done) + " of ~" + number(p.total) + " rows, " + number(Math.round(p.rate)) + "/s" +
        (p.paused ? " (paused: " + p.paused + ")" : "");
      div.append(bar, line);
    }
    box.appendChild(div);
  }
}

function renderJobs(jobs) {
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  for (const job of jobs) {
    const row = document.createElement("tr");
    row.dataset.job = job.name;
    row.appendChild(document.createElement("td")).appendChild(runButton("jobs", job.name));
    cell(row, job.name, "name");
    cell(row, job.task, "task");
    cell(row, job.schedule, "schedule");
    cell(row, job.timezone, "zone");
    cell(row, job.enabled ? (job.next[0] || "never") : "disabled", "next");
    statusCell(row, job.last_run ? job.last_run.status : "").classList.add("last");
    cell(row, job.health, "health");
    body.appendChild(row);
  }
}

function renderTasks(tasks) {
  const box = document.getElementById("tasks");
  box.replaceChildren();
  for (const task of tasks) {
    const button = runButton("tasks", task.name);
    button.title = task.summary;
    box.appendChild(button);
  }
}

function renderReplicas(replicas) {
  const body = document.querySelector("#replicas tbody");
  body.replaceChildren();
  for (const r of replicas) {
    const row = document.createElement("tr");
    cell(row, r.host);
    cell(row, r.pid);
    cell(row, r.state, "state-" + r.state);
    cell(row, r.heartbeat_at);
    cell(row, r.status, "wrap");
    body.appendChild(row);
  }
}

function renderHistory(runs) {
  const body = document.querySelector("#history tbody");
  body.replaceChildren();
  for (const run of runs) {
    const row = document.createElement("tr");
    row.dataset.id = String(run.id);
    cell(row, run.id);
    cell(row, run.started_at.replace("T", " ").slice(0, 19));
    cell(row, run.job || "-");
    cell(row, run.task);
    statusCell(row, run.status);
    cell(row, number(Object.values(run.deleted || {}).reduce((a, b) => a + b, 0)));
    cell(row, duration(run.duration_ms));
    cell(row, run.trigger || "command line", "trigger");
    cell(row, run.error || "", "wrap");
    body.appendChild(row);
  }
}

async function refresh() {
  try {
    const [status, stats, history] = await Promise.all(
      [call("/api/v1/status"), call("/api/v1/stats"), call("/api/v1/history?limit=20")]);
    if (status.status === 401 || status.status === 403) {
      say("This daemon wants its token for reading: use Set token.");
      return;
    }
    if (status.status !== 200) {
      say("The status could not be read (" + status.status + "): " + (status.body && status.body.error));
      return;
    }
    const s = status.body;
    document.getElementById("database").textContent = s.database;
    const problems = document.getElementById("problems");
    problems.replaceChildren();
    for (const problem of s.problems || []) {
      const li = document.createElement("li");
      li.textContent = problem;
      problems.appendChild(li);
    }
    renderRunning(s.running || []);
    renderJobs(s.jobs || []);
    renderTasks(s.tasks || []);
    renderReplicas((s.daemon && s.daemon.replicas) || []);
    if (stats.status === 200) { renderStats(stats.body); }
    if (history.status === 200) { renderHistory(history.body.runs || []); }
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    document.body.dataset.loaded = "yes";
  } catch (e) {
    say("The daemon does not answer: " + e);
  }
}

document.getElementById("token").addEventListener("click", () => {
  if (token()) { sessionStorage.removeItem(tokenKey); showToken(); } else { askToken(); }
  refresh();
});
showToken();
refresh();
setInterval(refresh, refreshMs);
)js";

} // namespace

std::string_view dashboard_html()
{
  return k_page;
}

std::string_view dashboard_css()
{
  return k_style;
}

std::string_view dashboard_js()
{
  return k_script;
}

} // namespace housekeep
