// Where carts live: the interface both stores implement (Redis, in-process) and the one the
// handlers use (FailoverCartStore picks between them).
//
// Every operation slides the cart's time to live: a cart untouched for `ttl` disappears; a
// read or a write gives it `ttl` again. Each returns the cart as it stands afterwards.
//
// Errors: StoreUnavailable when the backing store cannot answer (Redis down); CartLimitError
// when a change would break a limit (nothing changed then).
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <stdexcept>
#include <string>

#include "cart/cart_model.h"

namespace mambogo::cart {

class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CartLimitError : public std::runtime_error {
 public:
  enum class Kind { quantity, items };
  CartLimitError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct CartLimits {
  int max_quantity = kMaxQuantity;  // per line
  int max_items = 100;              // distinct products per cart
};

// How a line is changed: `add` sums with what is there, `set` replaces the quantity. Both
// refresh the line's name/price snapshot.
enum class LineChange { add, set };

class CartStore {
 public:
  virtual ~CartStore() = default;

  // An empty cart (no lines, empty updated_at) when there is none.
  virtual Cart get(const std::string& user_id) = 0;
  // line.quantity >= 1. Throws CartLimitError when the resulting quantity exceeds
  // limits.max_quantity or a new line exceeds limits.max_items.
  virtual Cart change_line(const std::string& user_id, const CartLine& line, LineChange how,
                           const CartLimits& limits, const std::string& now) = 0;
  // Removing the last line removes the cart. Removing an absent line changes nothing.
  virtual Cart remove_line(const std::string& user_id, const std::string& product_id,
                           const std::string& now) = 0;
  virtual void clear(const std::string& user_id) = 0;
};

}  // namespace mambogo::cart
