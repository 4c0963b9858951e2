// RESP2, the Redis wire protocol, as pure functions over bytes (so they are tested without a
// socket): a command as an array of bulk strings, and an incremental reply parser.
// Thread-safety: stateless.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "runtime/redis/redis_pool.h"  // RedisReply

namespace mambogo::runtime::redis {

// Appends "*<n>\r\n" and "$<len>\r\n<bytes>\r\n" per argument to out (binary-safe).
void append_command(std::string& out, std::span<const std::string_view> args);

enum class ParseResult {
  complete,    // one reply parsed into `out`, pos moved past it
  incomplete,  // more bytes needed; pos and out unspecified
  malformed,   // not RESP2 (or beyond the limits: 512 MiB bulk, 1M elements, nesting 16)
};
// Parses one reply starting at data[pos]. Error replies become Type::error, "$-1"/"*-1" nil.
ParseResult parse_reply(std::string_view data, std::size_t& pos, RedisReply& out);

}  // namespace mambogo::runtime::redis
