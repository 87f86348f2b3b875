// The status API the daemon serves: probes, the status document scheduler-info prints, recent
// runs and Prometheus metrics, read from the database on the server's own connection.
#include "housekeep/http.hpp"

#include "housekeep/error.hpp"
#include "housekeep/history.hpp"
#include "housekeep/output.hpp"
#include "housekeep/status.hpp"
#include "housekeep/task.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

namespace housekeep {

namespace {

HttpResponse json_response(int status, const nlohmann::ordered_json& body)
{
  return HttpResponse{
    status, "application/json", body.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n", {}};
}

HttpResponse error_response(int status, const std::string& message)
{
  return json_response(status, nlohmann::ordered_json{{"error", message}});
}

double unix_seconds(TimePoint t)
{
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// A label value as the exposition format writes it.
std::string label(std::string_view value)
{
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
    }
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// The gauges of the schedule: the daemons, and per job its last success, last outcome,
// whether it runs now, its missed slots and its next run.
std::string schedule_metrics(const ScheduleStatus& status)
{
  std::string out;
  const auto family = [&](std::string_view name, std::string_view help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
  };
  family("housekeep_replicas_running", "Daemons of this database whose heartbeat is live.");
  out += fmt::format("housekeep_replicas_running {}\n", status.daemon.running());
  family("housekeep_job_last_success_timestamp_seconds", "When the job's last successful run started, in Unix time.");
  for (const auto& plan : status.jobs) {
    if (plan.last_success) {
      out += fmt::format("housekeep_job_last_success_timestamp_seconds{{job=\"{}\"}} {:.3f}\n", label(plan.job.name),
                         unix_seconds(plan.last_success->started_at));
    }
  }
  family("housekeep_job_last_run_success", "1 if the job's last run ended ok, 0 if not.");
  for (const auto& plan : status.jobs) {
    if (plan.last_run) {
      out += fmt::format("housekeep_job_last_run_success{{job=\"{}\"}} {}\n", label(plan.job.name),
                         plan.last_run->status == RunStatus::ok ? 1 : 0);
    }
  }
  family("housekeep_job_running", "1 while a run of the job is in progress on any daemon.");
  for (const auto& plan : status.jobs) {
    const bool running = std::any_of(status.running.begin(), status.running.end(),
                                     [&](const RunInProgress& r) { return r.job == plan.job.name; });
    out += fmt::format("housekeep_job_running{{job=\"{}\"}} {}\n", label(plan.job.name), running ? 1 : 0);
  }
  family("housekeep_job_missed_slots", "Slots of the job no daemon ran under its current schedule.");
  for (const auto& plan : status.jobs) {
    out += fmt::format("housekeep_job_missed_slots{{job=\"{}\"}} {}\n", label(plan.job.name), plan.missed);
  }
  family("housekeep_job_next_run_timestamp_seconds", "When the job runs next, in Unix time.");
  for (const auto& plan : status.jobs) {
    if (!plan.next.empty()) {
      out += fmt::format("housekeep_job_next_run_timestamp_seconds{{job=\"{}\"}} {:.3f}\n", label(plan.job.name),
                         unix_seconds(plan.next.front()));
    }
  }
  family("housekeep_job_healthy", "1 unless scheduler-info --check fails on the job.");
  for (const auto& plan : status.jobs) {
    out += fmt::format("housekeep_job_healthy{{job=\"{}\"}} {}\n", label(plan.job.name), plan.unhealthy() ? 0 : 1);
  }
  return out;
}

} // namespace

HttpSetup http_setup(const Config& config, const std::string& listen)
{
  HttpSetup setup;
  const std::string& text = listen.empty() ? config.http.listen : listen;
  if (text.empty()) {
    return setup;
  }
  setup.listen = parse_listen_address(text);
  if (!config.http.token_file.empty()) {
    std::ifstream in(config.http.token_file);
    std::string token;
    if (!in || !std::getline(in, token)) {
      throw ConfigError(fmt::format("cannot read http.token_file '{}': {}", config.http.token_file,
                                    in ? "it is empty" : std::strerror(errno)),
                        "put the token on the file's first line, readable by the daemon's user alone");
    }
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())) != 0) {
      token.pop_back();
    }
    if (token.size() < 16) {
      throw ConfigError(fmt::format("http.token_file '{}' holds {} characters; a token needs at least 16",
                                    config.http.token_file, token.size()),
                        "make one with: head -c 32 /dev/urandom | base64 > FILE");
    }
    setup.token = std::move(token);
  }
  if (!setup.listen->loopback() && setup.token.empty()) {
    throw ConfigError(fmt::format("refusing to serve the status API on {} without a token: that address reaches "
                                  "beyond this host",
                                  setup.listen->text()),
                      "listen on 127.0.0.1 (or [::1]), or set [http] token_file");
  }
  return setup;
}

bool equal_in_constant_time(std::string_view a, std::string_view b)
{
  unsigned char differ = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) {
    differ |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return differ == 0;
}

StatusApi::StatusApi(Options options) : m_options(std::move(options)) {}

Store& StatusApi::store()
{
  if (m_store && (m_store->connection_lost() || m_store->replaced())) {
    m_store.reset();
  }
  if (!m_store) {
    m_store = m_options.open_store();
  }
  return *m_store;
}

bool StatusApi::authorized(const HttpRequest& request) const
{
  constexpr std::string_view scheme = "Bearer ";
  return !m_options.token.empty() && request.authorization.starts_with(scheme) &&
         equal_in_constant_time(std::string_view(request.authorization).substr(scheme.size()), m_options.token);
}

namespace {

// The name in "/api/v1/{kind}/{name}/run" (kind "jobs" or "tasks"), or empty when `path` is
// not such a path. Names are what the configuration allows: letters, digits, '_', '-', '.'.
std::string run_target(std::string_view path, std::string_view kind)
{
  const std::string prefix = fmt::format("/api/v1/{}/", kind);
  constexpr std::string_view suffix = "/run";
  if (!path.starts_with(prefix) || !path.ends_with(suffix) || path.size() <= prefix.size() + suffix.size()) {
    return {};
  }
  const std::string_view name = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
  return plain && name.size() <= 100 ? std::string(name) : std::string();
}

HttpResponse method_not_allowed(const std::string& path, std::string_view allowed)
{
  HttpResponse response = error_response(405, fmt::format("{} takes {}", path.substr(0, 200), allowed));
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

HttpResponse needs_token(const HttpRequest& request)
{
  HttpResponse response =
    error_response(request.authorization.empty() ? 401 : 403,
                   request.authorization.empty() ? "this endpoint needs the token: Authorization: Bearer TOKEN"
                                                 : "the token is not the one configured in [http] token_file");
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

} // namespace

HttpResponse StatusApi::handle(const HttpRequest& request)
{
  const std::string& path = request.path;
  const std::string job = run_target(path, "jobs");
  const std::string task = run_target(path, "tasks");
  if (!job.empty() || !task.empty()) {
    if (!m_options.trigger || m_options.token.empty()) {
      return error_response(404, "manual runs are served only when [http] token_file is set");
    }
    if (request.method != "POST") {
      return method_not_allowed(path, "POST");
    }
    if (!authorized(request)) {
      return needs_token(request);
    }
    return run(request, !job.empty(), job.empty() ? task : job);
  }
  constexpr std::string_view runs_prefix = "/api/v1/runs/";
  const bool known = path == "/" || path == "/dashboard.js" || path == "/dashboard.css" || path == "/favicon.ico" ||
                     path == "/healthz" || path == "/readyz" || path == "/api/v1/status" || path == "/api/v1/stats" ||
                     path == "/api/v1/history" || path == "/metrics" ||
                     (path.starts_with(runs_prefix) && m_options.trigger_state && !m_options.token.empty());
  if (!known) {
    return error_response(404, fmt::format("no such endpoint: {}", path.substr(0, 200)));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return method_not_allowed(path, "GET, HEAD");
  }
  // The page holds no data: its script asks for the token, when one is needed, and sends it.
  if (path == "/") {
    return HttpResponse{200, "text/html; charset=utf-8", std::string(dashboard_html()), {}};
  }
  if (path == "/dashboard.js") {
    return HttpResponse{200, "text/javascript; charset=utf-8", std::string(dashboard_js()), {}};
  }
  if (path == "/favicon.ico") {
    return HttpResponse{204, "image/x-icon", {}, {}}; // none: browsers ask for it, the page needs none
  }
  if (path == "/dashboard.css") {
    return HttpResponse{200, "text/css; charset=utf-8", std::string(dashboard_css()), {}};
  }
  if (path == "/healthz") {
    if (m_options.loop->stopped) {
      return json_response(503, {{"ok", false}, {"loop", "stopped"}});
    }
    return json_response(200, {{"ok", true}, {"loop", m_options.loop->what()}});
  }
  if (m_options.reads_need_token && !authorized(request) && path != "/readyz") {
    return needs_token(request);
  }
  if (path.starts_with(runs_prefix)) {
    const std::string id = path.substr(runs_prefix.size());
    if (auto state = m_options.trigger_state(id)) {
      return json_response(200, *state);
    }
    return error_response(404, fmt::format("no manual run '{}' is known to this daemon", id.substr(0, 100)));
  }
  try {
    if (path == "/readyz") {
      store().history().replicas();
      return json_response(200, {{"ok", true}, {"database", store().describe()}});
    }
    if (path == "/api/v1/history") {
      std::size_t limit = 20;
      if (const std::string text = request.argument("limit"); !text.empty()) {
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
        if (error != std::errc{} || end != text.data() + text.size() || limit < 1 || limit > 1000) {
          return error_response(400, fmt::format("limit '{}' is not a number from 1 to 1000", text.substr(0, 40)));
        }
      }
      RunQuery query;
      query.limit = limit;
      return json_response(200, history_json(store().history().runs(query)));
    }
    const std::shared_ptr<const Config> config = m_options.config();
    if (path == "/api/v1/stats") {
      return stats(*config);
    }
    const ScheduleStatus status = schedule_status(*config, store(), m_options.clock->now(), 1);
    if (path == "/api/v1/status") {
      return json_response(200, schedule_status_json(status, false));
    }
    std::string metrics = schedule_metrics(status);
    if (m_options.latest_runs) {
      metrics += m_options.latest_runs();
    }
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics, {}};
  } catch (const Error& e) {
    m_store.reset(); // opened again by the next request
    return error_response(503, e.what());
  }
}

HttpResponse StatusApi::run(const HttpRequest& request, bool job, const std::string& name)
{
  TriggerRequest trigger{job, name, false};
  if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
      return error_response(400, "the body is not a JSON object; send {\"dry_run\": true}, or nothing");
    }
    for (const auto& [key, value] : body.items()) {
      if (key != "dry_run") {
        return error_response(400,
                              fmt::format("unknown key '{}' in the body; it takes \"dry_run\"", key.substr(0, 40)));
      }
      if (!value.is_boolean()) {
        return error_response(400, "\"dry_run\" takes true or false");
      }
      trigger.dry_run = value.get<bool>();
    }
  }
  const TriggerOutcome outcome = m_options.trigger(trigger);
  using Result = TriggerOutcome::Result;
  switch (outcome.result) {
  case Result::started: {
    const std::string state = fmt::format("/api/v1/runs/{}", outcome.id);
    HttpResponse response = json_response(
      202,
      {{"ok", true}, {"id", outcome.id}, {job ? "job" : "task", name}, {"dry_run", trigger.dry_run}, {"state", state}});
    response.headers.emplace_back("Location", state);
    return response;
  }
  case Result::unknown: return error_response(404, outcome.message);
  case Result::busy: return error_response(409, outcome.message);
  case Result::full: {
    HttpResponse response = error_response(429, outcome.message);
    response.headers.emplace_back("Retry-After", "30");
    return response;
  }
  case Result::unavailable: break;
  }
  return error_response(503, outcome.message);
}

HttpResponse StatusApi::stats(const Config& config)
{
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const TaskDef& task : task_table(config)) {
    if (task.config == nullptr || task.config->kind != "stats") {
      continue;
    }
    RunQuery query;
    query.task = task.name;
    query.status = RunStatus::ok;
    query.limit = 10;
    nlohmann::ordered_json entry{{"task", task.name}, {"taken_at", nullptr}, {"run_id", nullptr}, {"figures", nullptr}};
    for (const RunRecord& run : store().history().runs(query)) {
      if (!run.stats.empty()) {
        nlohmann::ordered_json figures = nlohmann::ordered_json::object();
        for (const auto& [figure, value] : run.stats) {
          figures[figure] = value;
        }
        entry["taken_at"] = format_utc(run.finished_at);
        entry["run_id"] = run.id;
        entry["figures"] = std::move(figures);
        break;
      }
    }
    list.push_back(std::move(entry));
  }
  return json_response(200, {{"ok", true}, {"stats", std::move(list)}});
}

} // namespace housekeep
