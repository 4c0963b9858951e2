#include "product/inventory_request.h"

#include <algorithm>

#include "runtime/values.h"

namespace mambogo::product {

using runtime::canonical_uuid;

namespace {

std::optional<std::string> uuid_field(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return canonical_uuid(it->get_ref<const std::string&>());
}

std::optional<std::int64_t> quantity_field(const nlohmann::json& line) {
  auto it = line.find("quantity");
  if (it == line.end() || !it->is_number_integer()) return std::nullopt;
  const auto q = it->get<std::int64_t>();
  if (q < 1 || q > kMaxReservationQuantity) return std::nullopt;
  return q;
}

}  // namespace

std::variant<ReserveRequest, BodyProblem> parse_reserve_request(const nlohmann::json& body) {
  ReserveRequest out;
  auto order_id = uuid_field(body, "orderId");
  if (!order_id) return BodyProblem{"orderId must be a UUID"};
  out.order_id = *order_id;
  auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty() || items->size() > kMaxReservationLines)
    return BodyProblem{"items must be an array of 1 to 100 lines"};
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto& line = (*items)[i];
    const std::string where = "items[" + std::to_string(i) + "]";
    if (!line.is_object()) return BodyProblem{where + " must be an object"};
    auto product_id = uuid_field(line, "productId");
    if (!product_id) return BodyProblem{where + ".productId must be a UUID"};
    auto quantity = quantity_field(line);
    if (!quantity) return BodyProblem{where + ".quantity must be an integer from 1 to 100000"};
    auto same = std::find_if(out.items.begin(), out.items.end(),
                             [&](const ReservationItem& r) { return r.product_id == *product_id; });
    if (same == out.items.end()) {
      out.items.push_back({*product_id, *quantity});
    } else if ((same->quantity += *quantity) > kMaxReservationQuantity) {
      return BodyProblem{where + ".quantity: the lines for product " + *product_id + " add up to more than 100000"};
    }
  }
  return out;
}

std::variant<std::string, BodyProblem> parse_release_request(const nlohmann::json& body) {
  auto order_id = uuid_field(body, "orderId");
  if (!order_id) return BodyProblem{"orderId must be a UUID"};
  return *order_id;
}

}  // namespace mambogo::product
