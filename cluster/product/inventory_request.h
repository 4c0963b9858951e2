// The bodies of POST /api/inventory/reserve and /release, validated (cluster/README.md):
//   reserve  {"orderId": uuid, "items": [{"productId": uuid, "quantity": n}, ...]}
//   release  {"orderId": uuid}
// Ids are returned in canonical (lower-case) form. Lines naming the same product are merged
// (quantities summed, first position kept), so the repository sees each product once.
// Limits: 1..100 lines, each quantity an integer 1..100000 (also after merging).
// Unknown fields are ignored.
//
// Pure functions: safe from any thread. A refusal is a BodyProblem whose message names the
// offending field (it becomes a 400 bad_request).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "product/product_model.h"

namespace mambogo::product {

struct ReserveRequest {
  std::string order_id;
  std::vector<ReservationItem> items;
};

struct BodyProblem {
  std::string message;
};

inline constexpr std::size_t kMaxReservationLines = 100;
inline constexpr std::int64_t kMaxReservationQuantity = 100'000;

std::variant<ReserveRequest, BodyProblem> parse_reserve_request(const nlohmann::json& body);
// The canonical orderId, or the problem.
std::variant<std::string, BodyProblem> parse_release_request(const nlohmann::json& body);

}  // namespace mambogo::product
