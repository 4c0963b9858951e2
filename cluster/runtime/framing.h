// Request framing rules that keep a front proxy and this server agreeing on where a request
// ends (RFC 9112 section 6.3), so requests cannot be smuggled past a gateway.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/http_message.h"

namespace mambogo::runtime {

// nullopt when the headers frame the body unambiguously; otherwise why not. Rejected:
// Content-Length together with Transfer-Encoding; more than one Content-Length (even equal);
// a Content-Length that is not a plain decimal; a Transfer-Encoding whose last coding is not
// "chunked"; more than one Transfer-Encoding header.
std::optional<std::string> check_framing(const std::vector<Header>& headers);

}  // namespace mambogo::runtime
