// The HTTP server over libmicrohttpd: its own polling thread, bounded connections, request
// memory and idle time; requests are collected whole (headers, query, a small body) and
// handed to the handler, whose answer goes back with the security headers every response
// carries.
#include "housekeep/http.hpp"

#include "housekeep/error.hpp"

#include <fmt/format.h>
#include <microhttpd.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace housekeep {

namespace {

// What the server collects of one request across the handler's calls.
struct Pending {
  HttpRequest request;
  bool too_large = false;
};

constexpr std::string_view k_security_policy =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; "
  "form-action 'none'; frame-ancestors 'none'";

} // namespace

bool ListenAddress::loopback() const
{
  if (ipv6) {
    return host == "::1";
  }
  return host.starts_with("127.");
}

std::string ListenAddress::text() const
{
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

ListenAddress parse_listen_address(std::string_view text)
{
  const std::string hint = "write HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080";
  ListenAddress out;
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) {
      throw UsageError(fmt::format("listen address '{}' has no port", text), hint);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    out.ipv6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      throw UsageError(fmt::format("listen address '{}' has no port", text), hint);
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc{} || end != port.data() + port.size() || value > 65535 || port.empty()) {
    throw UsageError(fmt::format("listen address '{}': '{}' is not a port (0-65535)", text, port), hint);
  }
  out.port = static_cast<std::uint16_t>(value);
  out.host = host == "localhost" ? "127.0.0.1" : host.empty() ? "0.0.0.0" : std::string(host);
  unsigned char bytes[sizeof(in6_addr)];
  if (::inet_pton(out.ipv6 ? AF_INET6 : AF_INET, out.host.c_str(), bytes) != 1) {
    throw UsageError(fmt::format("listen address '{}': '{}' is not a numeric address", text, host), hint);
  }
  return out;
}

std::string HttpRequest::argument(std::string_view name) const
{
  for (const auto& [key, value] : query) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

struct HttpServer::Impl {
  HttpHandler handler;
  HttpLimits limits;
  MHD_Daemon* daemon = nullptr;
  std::uint16_t port = 0;

  static MHD_Result on_argument(void* cls, MHD_ValueKind, const char* key, const char* value)
  {
    static_cast<HttpRequest*>(cls)->query.emplace_back(key, value == nullptr ? "" : value);
    return MHD_YES;
  }

  static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                               const char* /*version*/, const char* upload_data, std::size_t* upload_data_size,
                               void** state)
  {
    auto* self = static_cast<Impl*>(cls);
    if (*state == nullptr) {
      auto pending = std::make_unique<Pending>();
      pending->request.method = method;
      pending->request.path = url;
      MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &Impl::on_argument, &pending->request);
      if (const char* auth = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization")) {
        pending->request.authorization = auth;
      }
      *state = pending.release();
      return MHD_YES;
    }
    auto* pending = static_cast<Pending*>(*state);
    if (*upload_data_size != 0) {
      if (pending->request.body.size() + *upload_data_size > self->limits.request_bytes) {
        pending->too_large = true;
      } else {
        pending->request.body.append(upload_data, *upload_data_size);
      }
      *upload_data_size = 0;
      return MHD_YES;
    }
    HttpResponse response;
    if (pending->too_large) {
      response = HttpResponse{413, "application/json", R"({"error": "request body too large"})", {}};
    } else {
      try {
        response = self->handler(pending->request);
      } catch (const std::exception& e) {
        response = HttpResponse{500, "application/json", nlohmann::json{{"error", e.what()}}.dump(), {}};
      }
    }
    return send(connection, response);
  }

  static MHD_Result send(MHD_Connection* connection, const HttpResponse& response)
  {
    MHD_Response* out = MHD_create_response_from_buffer(response.body.size(), const_cast<char*>(response.body.data()),
                                                        MHD_RESPMEM_MUST_COPY);
    if (out == nullptr) {
      return MHD_NO;
    }
    MHD_add_response_header(out, "Content-Type", response.content_type.c_str());
    MHD_add_response_header(out, "Content-Security-Policy", std::string(k_security_policy).c_str());
    MHD_add_response_header(out, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(out, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(out, "Cache-Control", "no-store");
    for (const auto& [name, value] : response.headers) {
      MHD_add_response_header(out, name.c_str(), value.c_str());
    }
    const MHD_Result result = MHD_queue_response(connection, static_cast<unsigned>(response.status), out);
    MHD_destroy_response(out);
    return result;
  }

  static void on_completed(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode)
  {
    delete static_cast<Pending*>(*state);
    *state = nullptr;
  }
};

HttpServer::HttpServer(const ListenAddress& address, HttpHandler handler, HttpLimits limits)
    : m_impl(std::make_unique<Impl>())
{
  m_impl->handler = std::move(handler);
  m_impl->limits = limits;
  sockaddr_storage storage{};
  if (address.ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    ::inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(address.port);
    ::inet_pton(AF_INET, address.host.c_str(), &in4->sin_addr);
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
  if (address.ipv6) {
    flags |= MHD_USE_IPv6;
  }
  m_impl->daemon =
    MHD_start_daemon(flags, address.port, nullptr, nullptr, &Impl::on_request, m_impl.get(), MHD_OPTION_SOCK_ADDR,
                     reinterpret_cast<sockaddr*>(&storage), MHD_OPTION_CONNECTION_LIMIT, limits.connections,
                     MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                     limits.request_bytes * 2, MHD_OPTION_CONNECTION_TIMEOUT, limits.timeout_seconds,
                     MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, nullptr, MHD_OPTION_END);
  if (m_impl->daemon == nullptr) {
    throw UnavailableError(fmt::format("cannot listen on {}: {}", address.text(), std::strerror(errno)),
                           "is another process using the port? choose another with --listen");
  }
  m_impl->port = address.port;
  if (const MHD_DaemonInfo* info = MHD_get_daemon_info(m_impl->daemon, MHD_DAEMON_INFO_LISTEN_FD)) {
    sockaddr_storage bound{};
    socklen_t size = sizeof(bound);
    if (::getsockname(info->listen_fd, reinterpret_cast<sockaddr*>(&bound), &size) == 0) {
      m_impl->port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                       : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    }
  }
}

HttpServer::~HttpServer()
{
  if (m_impl->daemon != nullptr) {
    MHD_stop_daemon(m_impl->daemon);
  }
}

std::uint16_t HttpServer::port() const
{
  return m_impl->port;
}

} // namespace housekeep
