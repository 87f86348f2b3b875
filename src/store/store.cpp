// Backend selection by URL scheme, URL parsing and identifier rules shared by all backends.
#include "housekeep/store.hpp"

#include "housekeep/demo.hpp"
#include "housekeep/error.hpp"
#include "store/backend.hpp"
#include "store/postgres/postgres_backend.hpp"
#include "store/sqlite/sqlite_backend.hpp"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <array>
#include <functional>

namespace housekeep {

namespace {

using OpenFn = std::unique_ptr<Backend> (*)(const DatabaseUrl&, const OpenOptions&);
using CheckFn = void (*)(const DatabaseUrl&);
using DemoFn = void (*)(const DatabaseUrl&, const DemoData&, bool force);

// An engine, by the scheme of its URLs.
struct Engine {
  std::string_view scheme;
  OpenFn open;   // the engine's backend
  CheckFn check; // validates the URL's parameters; nullptr: none checked
  bool file;     // the URL's path names a database file
  DemoFn demo;   // writes the demo's tables
};

// The one table of store engines.
constexpr std::array<Engine, 4> k_engines{{
  {"sqlite", &open_sqlite_backend, &check_sqlite_url, true, &write_sqlite_demo},
  {"file", &open_sqlite_backend, &check_sqlite_url, true, &write_sqlite_demo},
  {"postgresql", &open_postgres_backend, nullptr, false, &write_postgres_demo},
  {"postgres", &open_postgres_backend, nullptr, false, &write_postgres_demo},
}};

const Engine* engine_of(const DatabaseUrl& url)
{
  for (const auto& engine : k_engines) {
    if (engine.scheme == url.scheme) {
      return &engine;
    }
  }
  return nullptr;
}

bool is_ident_part(std::string_view part)
{
  if (part.empty()) {
    return false;
  }
  auto head = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!head(part.front())) {
    return false;
  }
  for (char c : part) {
    if (!head(c) && !(c >= '0' && c <= '9')) {
      return false;
    }
  }
  return true;
}

} // namespace

std::string describe_value(const Value& value)
{
  return std::visit(
    [](const auto& v) -> std::string {
      using T = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<T, std::monostate>) {
        return "NULL";
      } else if constexpr (std::is_same_v<T, std::string>) {
        return fmt::format("'{}'", v);
      } else if constexpr (std::is_same_v<T, Blob>) {
        return fmt::format("<blob of {} bytes>", v.bytes.size());
      } else if constexpr (std::is_same_v<T, Timestamp>) {
        return fmt::format("'{}'", format_timestamp(v));
      } else {
        return fmt::format("{}", v);
      }
    },
    value);
}

bool same_table(std::string_view a, std::string_view b)
{
  const auto dot_a = a.find('.');
  const auto dot_b = b.find('.');
  if ((dot_a == std::string_view::npos) == (dot_b == std::string_view::npos)) {
    return a == b;
  }
  return (dot_a == std::string_view::npos ? a : a.substr(dot_a + 1)) ==
         (dot_b == std::string_view::npos ? b : b.substr(dot_b + 1));
}

std::vector<ForeignKey> references_to(Store& store, std::string_view table)
{
  std::vector<ForeignKey> found;
  for (auto& key : store.foreign_keys()) {
    if (same_table(key.parent_table, table)) {
      found.push_back(std::move(key));
    }
  }
  return found;
}

bool is_safe_identifier(std::string_view name)
{
  const auto dot = name.find('.');
  if (dot == std::string_view::npos) {
    return is_ident_part(name);
  }
  return is_ident_part(name.substr(0, dot)) && is_ident_part(name.substr(dot + 1));
}

std::string absolute_database_url(const DatabaseUrl& url)
{
  const Engine* engine = engine_of(url);
  if (engine == nullptr || !engine->file || url.path.starts_with("/")) {
    return url.text;
  }
  std::error_code ignored;
  return std::filesystem::absolute(url.path, ignored).string();
}

std::string format_timestamp(Timestamp t)
{
  return date::format("%FT%TZ", t);
}

std::string_view database_url_forms()
{
  return "sqlite:///absolute/path.db, sqlite://relative/path.db, a plain file path, or "
         "postgresql://user@host/dbname";
}

std::string DatabaseUrl::redacted() const
{
  return mask_secrets(text);
}

std::string mask_secrets(std::string_view url)
{
  std::string out(url);
  const auto scheme_end = out.find("://");
  if (scheme_end == std::string::npos) {
    return out;
  }
  const auto authority = scheme_end + 3;
  // The user information ends at the last '@': a password may hold '@', '/' or '?' written
  // as they are. An '@' after the first '?' belongs to the query when a '=' precedes it there
  // (`?user=app@corp`) and nothing before that '?' has one.
  auto at = out.rfind('@');
  const auto first_query = out.find('?', authority);
  if (at != std::string::npos && at >= authority && first_query != std::string::npos && first_query < at &&
      out.find('@', authority) > first_query && out.find('=', first_query) < at) {
    at = std::string::npos;
  }
  if (at != std::string::npos && at >= authority) {
    const auto colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "****");
      at = colon + 1 + 4;
    }
  } else {
    at = authority;
  }
  // Any password-like parameter of the query: password=, sslpassword=, ...
  auto query = out.find('?', at);
  while (query != std::string::npos) {
    const auto key = query + 1;
    const auto eq = out.find('=', key);
    const auto end = out.find('&', key);
    if (eq != std::string::npos && (end == std::string::npos || eq < end)) {
      std::string name = out.substr(key, eq - key);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (name.find("password") != std::string::npos) {
        out.replace(eq + 1, (end == std::string::npos ? out.size() : end) - eq - 1, "****");
      }
    }
    query = out.find('&', key);
  }
  return out;
}

DatabaseUrl parse_database_url(std::string_view text)
{
  if (text.empty()) {
    throw UsageError("the database URL is empty", "pass --db sqlite:///path/to/app.db or set HOUSEKEEP_DATABASE_URL");
  }
  DatabaseUrl url;
  url.text = std::string(text);
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) {
    url.scheme = "sqlite";
    url.path = std::string(text);
  } else {
    url.scheme = std::string(text.substr(0, sep));
    std::string rest(text.substr(sep + 3));
    const auto query = rest.find('?');
    if (query != std::string::npos) {
      std::string params = rest.substr(query + 1);
      rest.resize(query);
      std::size_t pos = 0;
      while (pos <= params.size()) {
        auto amp = params.find('&', pos);
        if (amp == std::string::npos) {
          amp = params.size();
        }
        const std::string pair = params.substr(pos, amp - pos);
        if (!pair.empty()) {
          const auto eq = pair.find('=');
          url.params[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
        }
        pos = amp + 1;
      }
    }
    url.path = rest;
  }
  if (const Engine* engine = engine_of(url)) {
    if (url.path.empty()) {
      throw UsageError(fmt::format("database URL '{}' names no database", url.redacted()));
    }
    if (engine->check != nullptr) {
      engine->check(url);
    }
    return url;
  }
  throw UsageError(fmt::format("unsupported database URL scheme '{}' in '{}'", url.scheme, url.redacted()),
                   fmt::format("use {}", database_url_forms()));
}

std::unique_ptr<Store> open_store(const DatabaseUrl& url, const OpenOptions& options)
{
  const Engine* engine = engine_of(url);
  if (engine == nullptr) {
    throw UsageError(fmt::format("unsupported database URL scheme '{}'", url.scheme));
  }
  return std::make_unique<Store>(engine->open(url, options));
}

DemoSummary create_demo_database(const DatabaseUrl& url, const DemoOptions& options, TimePoint now)
{
  const Engine* engine = engine_of(url);
  if (engine == nullptr) {
    throw UsageError(fmt::format("unsupported database URL scheme '{}'", url.scheme));
  }
  const DemoData data = generate_demo(options.messages, now, options.layout);
  engine->demo(url, data, options.force);
  return summarize_demo(data);
}

} // namespace housekeep
