// mambogo-demo: the smallest real service. Routes:
//   GET  /hello             "ok" (2 bytes) on the I/O thread: the benchmark's subject
//   POST /api/echo          the JSON body back, parsed and re-serialised (400 when invalid)
//   GET  /api/slow?ms=N     sleeps N ms (0..10000) on the bounded executor: drain/overload drills
//   GET  /api/items/{id}    a path parameter, echoed
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "runtime/json_body.h"
#include "runtime/service.h"

using namespace mambogo::runtime;

int main(int argc, char** argv) {
  return service_main("mambogo-demo", argc, argv, [](Service& s) {
    s.router()
        .add(Method::get, "/hello", [](const Request&) { return Response::text(200, "ok"); })
        .add(Method::post, "/api/echo",
             [](const Request& r) {
               Response error;
               auto body = parse_json_object(r, error);
               if (!body) return error;
               return Response::json(200, nlohmann::json{{"echo", *body}}.dump());
             })
        .add(
            Method::get, "/api/slow",
            [](const Request& r) {
              auto ms_text = r.query_param("ms").value_or("100");
              char* end = nullptr;
              long ms = std::strtol(ms_text.c_str(), &end, 10);
              if (ms_text.empty() || *end != '\0' || ms < 0 || ms > 10'000)
                return Response::error(400, "invalid_parameter", "ms must be 0..10000",
                                       r.request_id);
              std::this_thread::sleep_for(std::chrono::milliseconds(ms));
              return Response::json(200, nlohmann::json{{"slept_ms", ms}}.dump());
            },
            Dispatch::blocking)
        .add(Method::get, "/api/items/{id}", [](const Request& r) {
          return Response::json(200, nlohmann::json{{"id", r.path_param("id")}}.dump());
        });
  });
}
