// The value formats every service writes and reads the same way: UUIDs (canonical lower-case
// text, random version 4 for new ids), money (integer cents in storage, a JSON number with
// exactly two decimals on the wire) and UTC timestamps (ISO 8601 with milliseconds).
//
// Pure functions (new_uuid() draws from a per-thread generator seeded by the OS): safe from any
// thread. Parsers report bad input as nullopt.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mambogo::runtime {

// True for 8-4-4-4-12 hex digits with dashes (either case).
bool is_uuid(std::string_view text);
// The canonical (lower-case) form of a UUID; nullopt when text is not one.
std::optional<std::string> canonical_uuid(std::string_view text);
// A random (version 4, RFC 4122 variant) UUID, lower-case.
std::string new_uuid();

// "19.90" for 1990, "-0.05" for -5. Always two decimals (a JSON library would print 19.9, and
// a double cannot hold every cent).
std::string format_money(std::int64_t cents);
// Appends format_money(cents) to out (the JSON writers' hot path).
void append_money(std::string& out, std::int64_t cents);
// "19", "19.9", "19.90" -> cents. Refuses signs, exponents, more than two decimals, an empty
// integer part (".5"), a trailing point ("19."), and more than 9 integer digits.
std::optional<std::int64_t> parse_money(std::string_view text);

// "2026-11-26T21:07:33.123Z".
std::string utc_iso8601(std::chrono::system_clock::time_point t);
inline std::string utc_now_iso() { return utc_iso8601(std::chrono::system_clock::now()); }

}  // namespace mambogo::runtime
