#include "load/jmeter_http.h"

#include <cctype>

namespace mambogo::load {
namespace {

constexpr std::string_view kFormLabel = "application/x-www-form-urlencoded; charset=UTF-8";
constexpr std::string_view kTextLabel = "text/plain; charset=UTF-8";

bool is(std::string_view method, std::initializer_list<std::string_view> any) {
  for (auto m : any)
    if (method == m) return true;
  return false;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

}  // namespace

std::string jmeter_url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '*' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string jmeter_url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
               hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

SamplerContent jmeter_sampler_content(std::string_view method, const std::vector<SamplerArgumentValue>& arguments,
                                      bool post_body_raw) {
  SamplerContent c;
  auto encoded = [](const std::string& s, bool always) { return always ? jmeter_url_encode(s) : s; };

  if (is(method, {"GET", "DELETE", "OPTIONS"})) {
    for (const auto& a : arguments) {
      if (blank(a.name)) continue;
      if (!c.query.empty()) c.query += '&';
      c.query += encoded(a.name, a.always_encode) + a.metadata + encoded(a.value, a.always_encode);
    }
  }

  bool nameless = !arguments.empty();
  for (const auto& a : arguments) nameless = nameless && a.name.empty();
  const bool entity = is(method, {"POST", "PUT", "PATCH", "DELETE", "GET"});
  if (entity && (post_body_raw || nameless)) {
    for (const auto& a : arguments) c.body += encoded(a.value, a.always_encode);
    c.has_body = true;
    c.content_type = kTextLabel;
  } else if (is(method, {"POST", "PUT", "PATCH", "DELETE"}) && (method == "POST" || !arguments.empty())) {
    for (const auto& a : arguments) {
      if (blank(a.name)) continue;
      std::string name = a.always_encode ? a.name : jmeter_url_decode(a.name);
      std::string value = a.always_encode ? a.value : jmeter_url_decode(a.value);
      if (!c.body.empty()) c.body += '&';
      c.body += jmeter_url_encode(name) + "=" + jmeter_url_encode(value);
    }
    c.has_body = true;
    c.content_type = kFormLabel;
  }
  return c;
}

}  // namespace mambogo::load
