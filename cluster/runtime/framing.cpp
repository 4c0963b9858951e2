#include "runtime/framing.h"

namespace mambogo::runtime {

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<std::string> check_framing(const std::vector<Header>& headers) {
  int content_lengths = 0, transfer_encodings = 0;
  std::string_view content_length, transfer_encoding;
  for (const auto& h : headers) {
    if (iequals(h.name, "Content-Length")) ++content_lengths, content_length = h.value;
    if (iequals(h.name, "Transfer-Encoding")) ++transfer_encodings, transfer_encoding = h.value;
  }
  if (content_lengths > 0 && transfer_encodings > 0)
    return "both Content-Length and Transfer-Encoding";
  if (content_lengths > 1) return "more than one Content-Length";
  if (transfer_encodings > 1) return "more than one Transfer-Encoding";
  if (content_lengths == 1) {
    std::string_view v = trim(content_length);
    if (v.empty() || v.size() > 18) return "invalid Content-Length";
    for (char c : v)
      if (c < '0' || c > '9') return "invalid Content-Length";
  }
  if (transfer_encodings == 1) {
    std::string_view v = trim(transfer_encoding);
    auto comma = v.rfind(',');
    std::string_view last = trim(comma == std::string_view::npos ? v : v.substr(comma + 1));
    if (!iequals(last, "chunked")) return "Transfer-Encoding must end in chunked";
  }
  return std::nullopt;
}

}  // namespace mambogo::runtime
