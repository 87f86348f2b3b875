// The status API's pieces that need no socket: listen addresses, and the token comparison.
#include "housekeep/error.hpp"
#include "housekeep/http.hpp"

#include <catch2/catch.hpp>

using namespace housekeep;

TEST_CASE("http: listen addresses, and which reach beyond this host", "[http]")
{
  const ListenAddress v4 = parse_listen_address("127.0.0.1:8080");
  CHECK(v4.host == "127.0.0.1");
  CHECK(v4.port == 8080);
  CHECK(v4.loopback());
  CHECK(v4.text() == "127.0.0.1:8080");
  CHECK(parse_listen_address("localhost:0").host == "127.0.0.1");
  CHECK(parse_listen_address("127.1.2.3:1").loopback());
  const ListenAddress v6 = parse_listen_address("[::1]:9000");
  CHECK(v6.ipv6);
  CHECK(v6.loopback());
  CHECK(v6.text() == "[::1]:9000");
  CHECK_FALSE(parse_listen_address("0.0.0.0:8080").loopback());
  CHECK_FALSE(parse_listen_address(":8080").loopback()); // every address
  CHECK(parse_listen_address(":8080").host == "0.0.0.0");
  CHECK_FALSE(parse_listen_address("[::]:8080").loopback());
  CHECK_FALSE(parse_listen_address("10.0.0.5:80").loopback());
  CHECK_THROWS_AS(parse_listen_address("8080"), UsageError);
  CHECK_THROWS_AS(parse_listen_address("127.0.0.1:"), UsageError);
  CHECK_THROWS_AS(parse_listen_address("127.0.0.1:65536"), UsageError);
  CHECK_THROWS_AS(parse_listen_address("127.0.0.1:80x"), UsageError);
  CHECK_THROWS_AS(parse_listen_address("example.com:80"), UsageError); // numeric only
  CHECK_THROWS_AS(parse_listen_address("[::1:80"), UsageError);
}

TEST_CASE("http: tokens compare equal only when equal", "[http]")
{
  CHECK(equal_in_constant_time("s3cret-token-0123", "s3cret-token-0123"));
  CHECK_FALSE(equal_in_constant_time("s3cret-token-0123", "s3cret-token-0124"));
  CHECK_FALSE(equal_in_constant_time("s3cret-token-0123", "s3cret-token-012"));
  CHECK_FALSE(equal_in_constant_time("s3cret-token-012", "s3cret-token-0123"));
  CHECK_FALSE(equal_in_constant_time("", "x"));
  CHECK(equal_in_constant_time("", ""));
}
