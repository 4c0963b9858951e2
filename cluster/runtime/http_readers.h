// Beast's HTTP/1 parsers writing straight into the runtime's own Request and Response values.
//
// Beast's http::parser fills an http::message first (a basic_fields container: one allocation
// per field, the whole header copied in) which the server and client then copied again into a
// Request or Response; on the gateway's path, where a request carries a ~700-byte bearer token,
// that double copy was a measurable share of its CPU. These readers keep everything that makes
// the parse correct in Beast's basic_parser (the grammar, Content-Length and chunked framing,
// header and body limits, keep-alive, need_eof) and only change where the pieces go.
//
// Included by the two translation units that speak HTTP/1 (http_server.cpp, http_client.cpp),
// which carry the Beast template weight anyway.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include <boost/beast/http/basic_parser.hpp>

#include "runtime/http_message.h"

namespace mambogo::runtime {

namespace detail {

// What both readers do alike: the body appended as it arrives (a known length reserved up
// front, up to 64 KiB: basic_parser has already refused a length over its body limit, and a
// large body grows as it comes, so a peer's claim alone never reserves much).
template <bool isRequest>
class MessageReader : public boost::beast::http::basic_parser<isRequest> {
 protected:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;
  using field = boost::beast::http::field;
  using verb = boost::beast::http::verb;

  explicit MessageReader(std::string& body) : body_(body) {}

 private:
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) body_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*length, 64 * 1024)));
  }
  std::size_t on_body_impl(string_view body, error_code&) override {
    body_.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    body_.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  std::string& body_;
};

}  // namespace detail

// One request into `out`: method, target, the fields in the order received (names as sent),
// the body. The HTTP version is kept here. `out` must outlive the reader.
class RequestReader final : public detail::MessageReader<true> {
 public:
  explicit RequestReader(Request& out) : MessageReader(out.body), out_(out) {}
  unsigned version() const { return version_; }

 private:
  void on_request_impl(verb, string_view method, string_view target, int version, error_code&) override {
    out_.method_token.assign(method.data(), method.size());
    out_.method = runtime::parse_method(out_.method_token);  // (basic_parser has one of its own)
    out_.target.assign(target.data(), target.size());
    version_ = static_cast<unsigned>(version);
  }
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(field, string_view name, string_view value, error_code&) override {
    out_.headers.push_back({std::string(name.data(), name.size()), std::string(value.data(), value.size())});
  }

  Request& out_;
  unsigned version_ = 11;
};

// One response into `out`: status, the fields in the order received, Content-Type (the first,
// as Beast's operator[] gives it; empty when absent), the body. A reader starts `out` afresh
// at its status line, so an interim 1xx read before it leaves nothing behind. `out` must
// outlive the reader.
class ResponseReader final : public detail::MessageReader<false> {
 public:
  explicit ResponseReader(Response& out) : MessageReader(out.body), out_(out) {}

 private:
  void on_request_impl(verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int status, string_view, int, error_code&) override {
    out_.status = status;
    out_.content_type.clear();
    out_.headers.clear();
    out_.headers.reserve(8);
    out_.body.clear();
    has_content_type_ = false;
  }
  void on_field_impl(field name, string_view name_string, string_view value, error_code&) override {
    if (name == field::content_type && !has_content_type_) {
      out_.content_type.assign(value.data(), value.size());
      has_content_type_ = true;
    }
    out_.headers.push_back({std::string(name_string.data(), name_string.size()),
                            std::string(value.data(), value.size())});
  }

  Response& out_;
  bool has_content_type_ = false;
};

}  // namespace mambogo::runtime
