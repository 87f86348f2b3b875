// The daemon's HTTP endpoint: a small server on its own thread (src/http/server.cpp, over
// libmicrohttpd) handing each request to a handler, and the handler that answers the status
// API (src/http/api.cpp) from the database on a connection of its own.
#pragma once

#include "housekeep/clock.hpp"
#include "housekeep/config.hpp"
#include "housekeep/store.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace housekeep {

/// Where to listen: "127.0.0.1:8080", "[::1]:8080", "localhost:8080", "0.0.0.0:8080", ":8080".
struct ListenAddress {
  std::string host; // a numeric address ("localhost" becomes 127.0.0.1; empty becomes 0.0.0.0)
  std::uint16_t port = 0;
  bool ipv6 = false;
  /// Whether only this host can connect (127.0.0.0/8, ::1).
  bool loopback() const;
  /// "127.0.0.1:8080", "[::1]:8080".
  std::string text() const;
};

/// Parses a listen address; throws UsageError saying what is wrong.
ListenAddress parse_listen_address(std::string_view text);

struct HttpRequest {
  std::string method;
  std::string path;                                       // without the query
  std::vector<std::pair<std::string, std::string>> query; // decoded arguments
  std::string authorization;                              // the Authorization header, or empty
  std::string body;

  /// The value of a query argument, or empty.
  std::string argument(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

/// Bounds on what one client can make the server hold.
struct HttpLimits {
  unsigned connections = 16;         // at once; more are refused
  std::size_t request_bytes = 16384; // headers and body of one request; more: 413 or a closed connection
  unsigned timeout_seconds = 10;     // an idle connection is closed after this
};

/// An HTTP server on its own thread, answering every request with `handler` (called on that
/// thread). Every response carries Content-Security-Policy, X-Content-Type-Options and
/// Cache-Control headers. Stops and joins when destroyed.
class HttpServer {
public:
  /// Binds `address`; throws UnavailableError (69) when it cannot (in use, not permitted).
  HttpServer(const ListenAddress& address, HttpHandler handler, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The port bound (the one asked for, or the one the system chose for port 0).
  std::uint16_t port() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

/// What the daemon's loop tells the API about itself.
class LoopState {
public:
  void set(std::string what)
  {
    const std::lock_guard guard(m_mutex);
    m_what = std::move(what);
  }
  std::string what() const
  {
    const std::lock_guard guard(m_mutex);
    return m_what;
  }
  std::atomic<bool> stopped{false};

private:
  mutable std::mutex m_mutex;
  std::string m_what = "starting";
};

/// A run asked of the status API: POST /api/v1/jobs/{name}/run or /api/v1/tasks/{name}/run.
struct TriggerRequest {
  bool job = true; // run the job `name`; false: the task `name`
  std::string name;
  bool dry_run = false;
};

/// What became of a TriggerRequest.
struct TriggerOutcome {
  enum class Result {
    started,     // running on its own thread: `id` names it
    unknown,     // no such job or task
    busy,        // the job (or task) runs now, here or on another daemon: `message` says where
    full,        // this daemon runs as many manual runs as it takes
    unavailable, // the database cannot be reached
  };
  Result result = Result::started;
  std::string id; // "manual:<id>", the run's claim and RunRecord::trigger
  std::string message;
};

/// The status API: GET /healthz, /readyz, /api/v1/status, /api/v1/stats,
/// /api/v1/history?limit=N, /metrics, the dashboard at /; with a token, POST
/// /api/v1/jobs/{name}/run and /api/v1/tasks/{name}/run, and GET /api/v1/runs/{id} for what
/// became of one. Reads the database through a store of its own (opened on first use, again
/// after it was lost), so it never waits on the scheduler's connection.
class StatusApi {
public:
  struct Options {
    std::function<std::unique_ptr<Store>()> open_store;
    std::function<std::shared_ptr<const Config>()> config; // the one in force now
    const LoopState* loop = nullptr;
    const Clock* clock = nullptr;
    /// The Prometheus text of the latest run of each job and task this daemon ran (what
    /// --metrics-file holds), appended to /metrics; none: nothing.
    std::function<std::string()> latest_runs;
    std::string token;             // empty: none configured
    bool reads_need_token = false; // bound beyond loopback: every read but the probes asks too
    /// Starts a manual run (on another thread; returns at once). Served only with a token.
    std::function<TriggerOutcome(const TriggerRequest&)> trigger;
    /// What became of manual run `id` (TriggerOutcome::id), while this daemon remembers it.
    std::function<std::optional<nlohmann::ordered_json>(const std::string& id)> trigger_state;
  };
  explicit StatusApi(Options options);

  HttpResponse handle(const HttpRequest& request);

private:
  Options m_options;
  std::unique_ptr<Store> m_store;

  Store& store();
  bool authorized(const HttpRequest& request) const;
  HttpResponse run(const HttpRequest& request, bool job, const std::string& name);
  HttpResponse stats(const Config& config);
};

/// The dashboard served at /, its style (/dashboard.css) and its script (/dashboard.js),
/// which reads the endpoints above.
std::string_view dashboard_html();
std::string_view dashboard_css();
std::string_view dashboard_js();

/// The daemon's endpoint as configured: where it listens (`listen`, from the command line,
/// else [http] listen; empty: off) and the token read from [http] token_file.
struct HttpSetup {
  std::optional<ListenAddress> listen;
  std::string token;
};

/// Resolves the endpoint's setup. Throws UsageError for a bad address, ConfigError (78) when
/// the address reaches beyond this host and no token is configured, or the token file cannot
/// be read or holds no token.
HttpSetup http_setup(const Config& config, const std::string& listen);

/// Compares two strings in time that depends on their lengths only, not on where they differ.
bool equal_in_constant_time(std::string_view a, std::string_view b);

} // namespace housekeep
