// order-service's HTTP routes (cluster/README.md, order-service), every one for the `user`
// role only (401 without a valid token, 403 without the role); a user sees only their own
// orders — someone else's is 404, never 403.
//
//   POST /api/orders      async: authenticated and validated on the I/O thread, then handed
//                         to the BatchWriter; answered once the batch committed:
//                         201 {"orderId","status","createdAt","expiresAt"} + Location;
//                         200 the same for a replay (same key, same body);
//                         400 missing_idempotency_key | invalid_idempotency_key | bad_request;
//                         415 non-JSON; 422 idempotency_key_reused; 503 (+ Retry-After) when
//                         the store is unavailable or the writer's queue is full.
//   GET /api/orders/{id}  blocking (database): 200 order, 400 bad_request (not a UUID), 404.
//   GET /api/orders       blocking: ?status=&page=&size= (size 1..100, default 20), newest
//                         first, {"content","page","size","totalElements","totalPages"}.
//
// Ownership: borrows everything (they outlive the router). Thread-safety: handlers run
// concurrently on I/O and executor threads; the members they use are thread-safe.
#pragma once

#include <chrono>

#include "order/batch_writer.h"
#include "order/order_processor.h"
#include "order/order_repository.h"
#include "runtime/auth/token.h"
#include "runtime/router.h"

namespace mambogo::order {

class OrderApi {
 public:
  OrderApi(OrderRepository& repository, BatchWriter& writer, const runtime::auth::TokenVerifier& verifier,
           WallClock now, std::chrono::milliseconds expiry);

  void install(runtime::Router& router);

  void create(const runtime::Request& request, runtime::Responder responder);
  runtime::Response get(const runtime::Request& request);
  runtime::Response list(const runtime::Request& request);

 private:
  OrderRepository& repository_;
  BatchWriter& writer_;
  const runtime::auth::TokenVerifier& verifier_;
  const WallClock now_;
  const std::chrono::milliseconds expiry_;
};

}  // namespace mambogo::order
