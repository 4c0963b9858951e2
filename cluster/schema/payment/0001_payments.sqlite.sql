-- One row per order: the unique order_id is what makes POST /api/payments idempotent.
-- Timestamps are ISO 8601 UTC text ("2026-01-31T12:00:00.000Z").
CREATE TABLE payments (
  id                 TEXT    PRIMARY KEY,
  order_id           TEXT    NOT NULL UNIQUE,
  user_id            TEXT    NOT NULL,
  amount_cents       INTEGER NOT NULL CHECK (amount_cents > 0),
  currency           TEXT    NOT NULL,
  payment_method     TEXT    NOT NULL,
  status             TEXT    NOT NULL CHECK (status IN ('PENDING', 'CAPTURED', 'DECLINED')),
  provider_reference TEXT,
  attempts           INTEGER NOT NULL DEFAULT 0,
  failure_reason     TEXT,
  created_at         TEXT    NOT NULL,
  updated_at         TEXT    NOT NULL
);
CREATE INDEX idx_payments_user ON payments (user_id);
-- Payments still waiting for the provider (a retry sweep or an operator looks for these).
CREATE INDEX idx_payments_pending ON payments (updated_at) WHERE status = 'PENDING';
