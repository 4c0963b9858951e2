// The deterministic demo catalogue: by default 10 000 products spread evenly over 20
// categories. The same options give the same catalogue every time, ids included (a
// splitmix64 stream from a fixed seed, with no std:: distribution whose output differs
// between standard libraries), so load plans, benchmarks and tests can name products that
// exist on every fresh start and on every machine.
//
//   generate_catalogue()  the values only (pure)
//   seed_catalogue()      writes them in one transaction, in multi-row INSERT batches, only
//                         when the products table is empty; returns how many it inserted.
//
// Thread-safety: generate_catalogue() is pure. seed_catalogue() uses the connection it is
// given exclusively; concurrent seeders are harmless (ids are fixed, rows that exist already
// are skipped with ON CONFLICT DO NOTHING).
// Errors: seed_catalogue() throws db::DbError; nothing of a failed run is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "product/product_model.h"
#include "runtime/db/connection.h"

namespace mambogo::product {

struct SeedOptions {
  std::int64_t products = 10'000;  // 0: seed nothing
  int categories = 20;             // 1..kMaxSeedCategories
  std::uint64_t seed = 0x6d616d626f676fULL;
  std::size_t batch_rows = 500;    // rows per INSERT statement
};

inline constexpr int kMaxSeedCategories = 20;

struct SeedCatalogue {
  std::vector<Category> categories;  // product_count = active products of the category
  // Product i is in category i * categories / products: contiguous blocks, as a catalogue
  // imported category by category (a category's rows share table pages).
  std::vector<Product> products;
};

// Throws std::invalid_argument for categories outside 1..kMaxSeedCategories, negative
// products, or batch_rows 0.
SeedCatalogue generate_catalogue(const SeedOptions& options);

// The number of products inserted: 0 when the table already had products (or options say 0).
std::int64_t seed_catalogue(db::Connection& conn, const SeedOptions& options);

}  // namespace mambogo::product
