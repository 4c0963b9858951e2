#include "runtime/redis/resp.h"

#include <algorithm>
#include <charconv>

namespace mambogo::runtime::redis {

namespace {

constexpr long long kMaxBulk = 512LL * 1024 * 1024;
constexpr long long kMaxElements = 1'000'000;
constexpr int kMaxDepth = 16;

void append_length(std::string& out, char kind, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.push_back(kind);
  out.append(digits, end);
  out.append("\r\n");
}

// The line at data[pos] up to CRLF; false when the CRLF has not arrived yet.
bool line(std::string_view data, std::size_t& pos, std::string_view& text) {
  const std::size_t end = data.find("\r\n", pos);
  if (end == std::string_view::npos) return false;
  text = data.substr(pos, end - pos);
  pos = end + 2;
  return true;
}

bool integer(std::string_view text, long long& value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

ParseResult parse(std::string_view data, std::size_t& pos, RedisReply& out, int depth) {
  if (depth > kMaxDepth) return ParseResult::malformed;
  if (pos >= data.size()) return ParseResult::incomplete;
  const char kind = data[pos++];
  std::string_view text;
  if (!line(data, pos, text)) return ParseResult::incomplete;
  switch (kind) {
    case '+':
      out.type = RedisReply::Type::status;
      out.str.assign(text);
      return ParseResult::complete;
    case '-':
      out.type = RedisReply::Type::error;
      out.str.assign(text);
      return ParseResult::complete;
    case ':':
      out.type = RedisReply::Type::integer;
      return integer(text, out.integer) ? ParseResult::complete : ParseResult::malformed;
    case '$': {
      long long n = 0;
      if (!integer(text, n) || n < -1 || n > kMaxBulk) return ParseResult::malformed;
      if (n == -1) {
        out.type = RedisReply::Type::nil;
        return ParseResult::complete;
      }
      const auto len = static_cast<std::size_t>(n);
      if (data.size() - pos < len + 2) return ParseResult::incomplete;
      if (data.substr(pos + len, 2) != "\r\n") return ParseResult::malformed;
      out.type = RedisReply::Type::string;
      out.str.assign(data.substr(pos, len));
      pos += len + 2;
      return ParseResult::complete;
    }
    case '*': {
      long long n = 0;
      if (!integer(text, n) || n < -1 || n > kMaxElements) return ParseResult::malformed;
      if (n == -1) {
        out.type = RedisReply::Type::nil;
        return ParseResult::complete;
      }
      out.type = RedisReply::Type::array;
      out.elements.clear();
      out.elements.reserve(static_cast<std::size_t>(std::min<long long>(n, 64)));
      for (long long i = 0; i < n; ++i) {
        RedisReply element;
        const ParseResult r = parse(data, pos, element, depth + 1);
        if (r != ParseResult::complete) return r;
        out.elements.push_back(std::move(element));
      }
      return ParseResult::complete;
    }
    default:
      return ParseResult::malformed;
  }
}

}  // namespace

void append_command(std::string& out, std::span<const std::string_view> args) {
  append_length(out, '*', args.size());
  for (std::string_view a : args) {
    append_length(out, '$', a.size());
    out.append(a);
    out.append("\r\n");
  }
}

ParseResult parse_reply(std::string_view data, std::size_t& pos, RedisReply& out) {
  std::size_t at = pos;
  const ParseResult r = parse(data, at, out, 0);
  if (r == ParseResult::complete) pos = at;
  return r;
}

}  // namespace mambogo::runtime::redis
