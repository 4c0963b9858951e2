-- product-service, version 1 (SQLite): the catalogue, its stock, and stock reserved by orders.
-- Money is integer cents; timestamps are ISO 8601 UTC text ('2026-01-01T00:00:00.000Z');
-- booleans are 0/1. The runner applies this whole file in one transaction.

CREATE TABLE categories (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE products (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  description    TEXT NOT NULL DEFAULT '',
  category_id    TEXT NOT NULL REFERENCES categories(id),
  price_cents    INTEGER NOT NULL CHECK (price_cents >= 0),
  -- The CHECK is the last line against oversell: a reservation's conditional UPDATE never
  -- takes stock below zero, and if a bug ever tried, the statement would fail.
  stock_quantity INTEGER NOT NULL CHECK (stock_quantity >= 0),
  is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  version        INTEGER NOT NULL DEFAULT 0
);

-- The seed's indexes (performance guide, "Query Optimization with Indexing"), partial as there.
-- The seed builds them CONCURRENTLY; that is a PostgreSQL option (and not allowed inside the
-- migration's transaction there either), so both dialects use a plain CREATE INDEX.
-- Category browsing: WHERE is_active = TRUE AND category_id = ?
CREATE INDEX idx_products_active_category ON products(is_active, category_id)
  WHERE is_active = TRUE;
-- Price ranges of what can be bought: WHERE is_active = TRUE AND stock_quantity > 0 AND price ...
CREATE INDEX idx_products_price_stock ON products(price_cents, stock_quantity)
  WHERE is_active = TRUE AND stock_quantity > 0;

-- One row per (order, product) reserved; RELEASED rows stay as the record of what came back.
CREATE TABLE inventory_reservations (
  order_id         TEXT NOT NULL,
  product_id       TEXT NOT NULL REFERENCES products(id),
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
  state            TEXT NOT NULL CHECK (state IN ('RESERVED', 'RELEASED')),
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  released_at      TEXT,
  PRIMARY KEY (order_id, product_id)
);

-- The answer given to the first successful reserve of an order, replayed to every repeat:
-- this is what makes reserve idempotent by orderId.
CREATE TABLE inventory_reservation_answers (
  order_id   TEXT PRIMARY KEY,
  answer     TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
