// What JMeter puts on the wire for an HTTP sampler's arguments, so that a JMX plan run by
// mambogo-load sends what JMeter 5.6's HttpClient 4 sampler sends for it (HTTPSamplerBase.getUrl
// and getSendParameterValuesAsPostBody, HTTPHC4Impl.setupHttpEntityEnclosingRequestData and
// sendEntityData, HTTPArgument.getEncodedValue):
//
//   * postBodyRaw, or arguments none of which has a name ("Body Data"): the body is every
//     value concatenated (URL-encoded only when the argument says always_encode), sent with
//     any method but HEAD and OPTIONS; HttpClient labels it text/plain; charset=UTF-8.
//   * named arguments with GET, DELETE, OPTIONS: the query string, name METADATA value (the
//     metadata is normally "="), joined by '&', encoded only when always_encode; arguments
//     with a blank name are skipped.
//   * named arguments with POST, PUT, PATCH, DELETE: an application/x-www-form-urlencoded
//     body (labelled ...; charset=UTF-8); a name or value not marked always_encode is taken
//     as already encoded, so it is decoded first and encoded again, as JMeter does.
//   * HEAD: nothing.
// A Content-Type from a HeaderManager always wins over these labels (the caller applies it):
// JMeter keeps it even when it does not describe the body.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mambogo::load {

struct SamplerArgumentValue {
  std::string name;
  std::string value;
  bool always_encode = false;  // HTTPArgument.always_encode
  std::string metadata = "=";  // Argument.metadata: what stands between name and value
};

struct SamplerContent {
  std::string query;         // without the '?'; empty when none
  std::string body;          // empty when none
  std::string content_type;  // the label of the body when no header sets one; empty: none
  bool has_body = false;     // an empty body may still be sent (Content-Length: 0)
};

SamplerContent jmeter_sampler_content(std::string_view method, const std::vector<SamplerArgumentValue>& arguments,
                                      bool post_body_raw);

// java.net.URLEncoder and HttpClient's form encoding, UTF-8: letters, digits and ".-*_" stay,
// a space becomes '+', every other byte %XX.
std::string jmeter_url_encode(std::string_view text);
// java.net.URLDecoder: '+' is a space, %XX a byte; a malformed escape is kept as it is.
std::string jmeter_url_decode(std::string_view text);

}  // namespace mambogo::load
