// Plain HTTP request and response values shared by the server, the router, the client and
// every handler. No Asio or Beast here: services include this header, not the transport.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mambogo::runtime {

enum class Method { get, head, post, put, patch, delete_, options, other };

std::string_view to_string(Method m);
// Parses an upper-case method token; anything unknown is Method::other.
Method parse_method(std::string_view token);

struct Header {
  std::string name;
  std::string value;
};

// Case-insensitive ASCII comparison, as header names require.
bool iequals(std::string_view a, std::string_view b);

// Whether a header can be written as one line without letting its text inject another: a
// token-ish name (no ':', space, tab, CR, LF) and a value without CR or LF. Two memchr scans
// of the value: find_first_of("\r\n") tested every byte of a 700-byte bearer token against
// the set one call at a time, 3% of the gateway's CPU.
bool safe_header_line(std::string_view name, std::string_view value);

// One request as a handler sees it. The server fills it once; handlers only read it.
struct Request {
  Method method = Method::get;
  std::string method_token;      // as sent, e.g. "GET"; kept for Method::other
  std::string target;            // request-target as sent: path plus optional "?query"
  std::vector<Header> headers;
  std::string body;
  std::string request_id;        // X-Request-Id taken from the client or generated
  std::string remote_address;    // "ip:port" of the peer
  std::vector<std::pair<std::string, std::string>> path_params;  // filled by the router

  std::string_view path() const;   // target without the query, not decoded
  std::string_view query() const;  // after '?', empty when absent
  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // Percent-decoded value of the first query parameter with this name.
  std::optional<std::string> query_param(std::string_view name) const;
  // Value of a "{name}" segment of the matched route template; empty if no such segment.
  std::string_view path_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<Header> headers;   // extra headers; Content-Type/Length are set from the above
  bool close_connection = false; // ask the server to close after writing this response

  static Response text(int status, std::string body);
  static Response json(int status, std::string json_body);
  // The one error shape of every service: {"error": code, "message": ..., "requestId": ...}.
  static Response error(int status, std::string_view code, std::string_view message,
                        std::string_view request_id = {});

  Response& with_header(std::string name, std::string value) &;
  Response&& with_header(std::string name, std::string value) &&;
};

// Standard reason phrase for a status code ("Not Found"), "Unknown" when none.
std::string_view reason_phrase(int status);

// Decodes %XX and '+' (as in application/x-www-form-urlencoded). Invalid escapes are kept.
std::string percent_decode(std::string_view s);

}  // namespace mambogo::runtime
