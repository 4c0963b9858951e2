-- One row per order: the unique order_id is what makes POST /api/payments idempotent.
CREATE TABLE payments (
  id                 UUID         PRIMARY KEY,
  order_id           UUID         NOT NULL UNIQUE,
  user_id            VARCHAR(128) NOT NULL,
  amount_cents       BIGINT       NOT NULL CHECK (amount_cents > 0),
  currency           CHAR(3)      NOT NULL,
  payment_method     VARCHAR(64)  NOT NULL,
  status             VARCHAR(16)  NOT NULL CHECK (status IN ('PENDING', 'CAPTURED', 'DECLINED')),
  provider_reference VARCHAR(64),
  attempts           INTEGER      NOT NULL DEFAULT 0,
  failure_reason     VARCHAR(255),
  created_at         TIMESTAMPTZ  NOT NULL,
  updated_at         TIMESTAMPTZ  NOT NULL
);
CREATE INDEX idx_payments_user ON payments (user_id);
-- Payments still waiting for the provider (a retry sweep or an operator looks for these).
CREATE INDEX idx_payments_pending ON payments (updated_at) WHERE status = 'PENDING';
