-- order-service: orders, idempotent by (user_id, idempotency_key). Times are milliseconds
-- since the Unix epoch (UTC). next_attempt_at is when the order next needs work (a processing
-- step, a retry, or the stock release of a FAILED/EXPIRED order); NULL when nothing is left.
CREATE TABLE orders (
  id               UUID PRIMARY KEY,
  user_id          TEXT NOT NULL,
  idempotency_key  TEXT NOT NULL,
  request_hash     TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('PENDING', 'INVENTORY_RESERVED', 'PENDING_PAYMENT',
                                                   'CONFIRMED', 'FAILED', 'EXPIRED')),
  items            JSONB NOT NULL,  -- [{"productId", "quantity", "unitPrice"(cents, once reserved)}]
  total_cents      BIGINT,          -- known once the inventory reservation priced the items
  currency         TEXT NOT NULL DEFAULT 'USD',
  shipping_address TEXT NOT NULL,
  payment_method   TEXT NOT NULL,
  payment_id       TEXT,
  failure_reason   TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL,
  expires_at       BIGINT NOT NULL,
  version          BIGINT NOT NULL DEFAULT 0,
  CONSTRAINT uq_orders_user_idempotency_key UNIQUE (user_id, idempotency_key)
);

-- The seed's indexes (performance-guide.md), without CONCURRENTLY: migrations run in one
-- transaction, and CREATE INDEX CONCURRENTLY cannot run inside a transaction block. On a
-- populated production table, create them CONCURRENTLY by hand before applying this.
CREATE INDEX idx_orders_user_status ON orders(user_id, status, created_at);
CREATE INDEX idx_orders_pending_expired ON orders(id, status, expires_at) WHERE status = 'PENDING';
-- The processor's work queue: orders whose next step is due.
CREATE INDEX idx_orders_work_due ON orders(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
