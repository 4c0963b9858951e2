// Money and identifiers as the product API writes and reads them. Prices are stored as
// integer cents and appear in JSON as a number with exactly two decimals (1999 -> 19.99,
// 1990 -> 19.90); ids are canonical lower-case UUID text.
//
// Pure functions, no state: safe from any thread. Parsers report bad input as nullopt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mambogo::product {

// "19.90" for 1990, "-0.05" for -5. Always two decimals.
std::string format_money(std::int64_t cents);
// Appends format_money(cents) to out (the JSON writers' hot path).
void append_money(std::string& out, std::int64_t cents);

// "19", "19.9", "19.90" -> cents. Refuses signs, exponents, more than two decimals, an empty
// integer part ("".5"), a trailing point ("19."), and more than 9 integer digits.
std::optional<std::int64_t> parse_money(std::string_view text);

// True for 8-4-4-4-12 hex digits with dashes (either case).
bool is_uuid(std::string_view text);
// The canonical (lower-case) form of a UUID; nullopt when text is not one.
std::optional<std::string> canonical_uuid(std::string_view text);

}  // namespace mambogo::product
