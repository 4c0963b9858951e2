#include "cart/redis_cart_store.h"

#include <algorithm>
#include <vector>

namespace mambogo::cart {
namespace {

using runtime::redis::RedisReply;

// KEYS[1] cart key; ARGV[1] ttl ms. Returns HGETALL.
constexpr const char* kGetScript = R"lua(
local v = redis.call('HGETALL', KEYS[1])
if #v > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return v
)lua";

// ARGV: ttl ms, productId, quantity, "add"|"set", max quantity, max items, name, unit price
// cents, updatedAt. Returns {0, HGETALL...}, or {1, quantity} over the quantity limit, or {2}
// when a new line would exceed the item limit (nothing changed then).
constexpr const char* kChangeScript = R"lua(
local key = KEYS[1]
local current = redis.call('HGET', key, ARGV[2])
local quantity = tonumber(ARGV[3])
if current and ARGV[4] == 'add' then quantity = quantity + cjson.decode(current)['quantity'] end
if quantity > tonumber(ARGV[5]) then return {1, quantity} end
local lines = redis.call('HLEN', key)
if lines > 0 then lines = lines - 1 end
if not current and lines >= tonumber(ARGV[6]) then return {2} end
local line = cjson.encode({quantity = quantity, name = ARGV[7], unitPriceCents = tonumber(ARGV[8])})
redis.call('HSET', key, ARGV[2], line, 'updatedAt', ARGV[9])
redis.call('PEXPIRE', key, ARGV[1])
local out = {0}
for _, x in ipairs(redis.call('HGETALL', key)) do out[#out + 1] = x end
return out
)lua";

// ARGV: ttl ms, productId, updatedAt. Returns HGETALL (empty once the last line is gone).
constexpr const char* kRemoveScript = R"lua(
local key = KEYS[1]
if redis.call('HDEL', key, ARGV[2]) == 1 then
  if redis.call('HLEN', key) <= 1 then
    redis.call('DEL', key)
    return {}
  end
  redis.call('HSET', key, 'updatedAt', ARGV[3])
end
local v = redis.call('HGETALL', key)
if #v > 0 then redis.call('PEXPIRE', key, ARGV[1]) end
return v
)lua";

// Field/value pairs of HGETALL, from `first` on, into a cart.
Cart to_cart(const std::string& user_id, const RedisReply& reply, std::size_t first) {
  Cart cart{user_id, {}, {}};
  const auto& e = reply.elements;
  for (std::size_t i = first; i + 1 < e.size(); i += 2) {
    const std::string& field = e[i].str;
    const std::string& value = e[i + 1].str;
    if (field == "updatedAt") {
      cart.updated_at = value;
      continue;
    }
    auto j = nlohmann::json::parse(value, nullptr, false);
    auto quantity = j.is_object() ? parse_quantity(&j["quantity"], 1, 1'000'000) : std::nullopt;
    if (!quantity) throw StoreUnavailable("cart " + user_id + " holds a malformed line for " + field);
    CartLine line;
    line.product_id = field;
    line.quantity = *quantity;
    line.name = j.value("name", "");
    line.unit_price_cents = j.value("unitPriceCents", std::int64_t{0});
    cart.lines.push_back(std::move(line));
  }
  std::sort(cart.lines.begin(), cart.lines.end(),
            [](const CartLine& a, const CartLine& b) { return a.product_id < b.product_id; });
  return cart;
}

}  // namespace

RedisCartStore::RedisCartStore(runtime::redis::RedisPool& pool, std::chrono::milliseconds ttl)
    : pool_(pool), ttl_ms_(std::to_string(ttl.count())) {}

RedisReply RedisCartStore::run(std::initializer_list<std::string_view> args) {
  RedisReply reply = pool_.command_argv(std::span<const std::string_view>(args.begin(), args.size()));
  if (reply.is_unavailable()) throw StoreUnavailable("redis unavailable: " + reply.str);
  if (reply.type == RedisReply::Type::error) throw StoreUnavailable("redis error: " + reply.str);
  return reply;
}

Cart RedisCartStore::get(const std::string& user_id) {
  const std::string k = key(user_id);
  return to_cart(user_id, run({"EVAL", kGetScript, "1", k, ttl_ms_}), 0);
}

Cart RedisCartStore::change_line(const std::string& user_id, const CartLine& line, LineChange how,
                                 const CartLimits& limits, const std::string& now) {
  const std::string k = key(user_id);
  const std::string quantity = std::to_string(line.quantity);
  const std::string max_quantity = std::to_string(limits.max_quantity);
  const std::string max_items = std::to_string(limits.max_items);
  const std::string price = std::to_string(line.unit_price_cents);
  RedisReply reply = run({"EVAL", kChangeScript, "1", k, ttl_ms_, line.product_id, quantity,
                          how == LineChange::add ? "add" : "set", max_quantity, max_items, line.name, price, now});
  const long long status = reply.elements.empty() ? -1 : reply.elements[0].integer;
  if (status == 1)
    throw CartLimitError(CartLimitError::Kind::quantity,
                         "the cart would hold " + std::to_string(reply.elements.at(1).integer) +
                             " of this product; at most " + max_quantity);
  if (status == 2)
    throw CartLimitError(CartLimitError::Kind::items, "a cart holds at most " + max_items + " different products");
  if (status != 0) throw StoreUnavailable("unexpected answer from the cart script");
  return to_cart(user_id, reply, 1);
}

Cart RedisCartStore::remove_line(const std::string& user_id, const std::string& product_id, const std::string& now) {
  const std::string k = key(user_id);
  return to_cart(user_id, run({"EVAL", kRemoveScript, "1", k, ttl_ms_, product_id, now}), 0);
}

void RedisCartStore::clear(const std::string& user_id) {
  const std::string k = key(user_id);
  run({"DEL", k});
}

}  // namespace mambogo::cart
