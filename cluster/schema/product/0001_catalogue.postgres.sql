-- product-service, version 1 (PostgreSQL 15): the catalogue, its stock, and stock reserved by
-- orders. Money is integer cents. The runner applies this whole file in one transaction.

CREATE TABLE categories (
  id         UUID PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE products (
  id             UUID PRIMARY KEY,
  name           TEXT NOT NULL,
  description    TEXT NOT NULL DEFAULT '',
  category_id    UUID NOT NULL REFERENCES categories(id),
  price_cents    BIGINT NOT NULL CHECK (price_cents >= 0),
  -- The CHECK is the last line against oversell: a reservation's conditional UPDATE never
  -- takes stock below zero, and if a bug ever tried, the statement would fail.
  stock_quantity INTEGER NOT NULL CHECK (stock_quantity >= 0),
  is_active      BOOLEAN NOT NULL DEFAULT TRUE,
  created_at     TIMESTAMPTZ NOT NULL,
  updated_at     TIMESTAMPTZ NOT NULL,
  version        BIGINT NOT NULL DEFAULT 0
);

-- The seed's indexes (performance guide, "Query Optimization with Indexing"), partial as there.
-- The seed writes CREATE INDEX CONCURRENTLY; CONCURRENTLY cannot run inside a transaction
-- block, and migrations run in one transaction (all or nothing), so here they are plain
-- CREATE INDEX on a table that is still empty. Adding an index to a large live table later
-- would be a separate, non-transactional step with CONCURRENTLY.
-- Category browsing: WHERE is_active = TRUE AND category_id = ?
CREATE INDEX idx_products_active_category ON products(is_active, category_id)
  WHERE is_active = TRUE;
-- Price ranges of what can be bought: WHERE is_active = TRUE AND stock_quantity > 0 AND price ...
CREATE INDEX idx_products_price_stock ON products(price_cents, stock_quantity)
  WHERE is_active = TRUE AND stock_quantity > 0;

-- One row per (order, product) reserved; RELEASED rows stay as the record of what came back.
CREATE TABLE inventory_reservations (
  order_id         UUID NOT NULL,
  product_id       UUID NOT NULL REFERENCES products(id),
  quantity         INTEGER NOT NULL CHECK (quantity > 0),
  unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
  state            TEXT NOT NULL CHECK (state IN ('RESERVED', 'RELEASED')),
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  released_at      TIMESTAMPTZ,
  PRIMARY KEY (order_id, product_id)
);

-- The answer given to the first successful reserve of an order, replayed to every repeat:
-- this is what makes reserve idempotent by orderId.
CREATE TABLE inventory_reservation_answers (
  order_id   UUID PRIMARY KEY,
  answer     TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
