#include "product/seed_data.h"

#include <array>
#include <ctime>
#include <stdexcept>

namespace mambogo::product {

namespace {

constexpr std::array<const char*, kMaxSeedCategories> kCategoryNames = {
    "Electronics", "Books",  "Home & Kitchen", "Toys",    "Sports",  "Clothing",     "Beauty",
    "Garden",      "Automotive", "Health",     "Grocery", "Music",   "Movies",       "Office",
    "Pet Supplies", "Tools", "Jewelry",        "Shoes",   "Baby",    "Video Games"};
constexpr std::array<const char*, 12> kAdjectives = {"Ergonomic", "Rustic",  "Sleek",   "Compact",
                                                     "Durable",   "Premium", "Classic", "Smart",
                                                     "Portable",  "Vintage", "Modern",  "Handmade"};
constexpr std::array<const char*, 10> kMaterials = {"Steel",  "Wooden", "Cotton", "Leather", "Glass",
                                                    "Bamboo", "Copper", "Wool",   "Ceramic", "Carbon"};
constexpr std::array<const char*, 12> kNouns = {"Lamp",   "Chair",  "Backpack", "Watch", "Bottle", "Speaker",
                                                "Jacket", "Kettle", "Notebook", "Mug",   "Blanket", "Headphones"};

// splitmix64 (Steele, Lea, Flood 2014): a tiny generator whose output is fixed by its
// definition, unlike std::uniform_int_distribution's.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }  // bias < 2^-50 for our n

 private:
  std::uint64_t state_;
};

std::string uuid_v4(SplitMix64& rng) {
  std::uint64_t hi = rng.next();
  std::uint64_t lo = rng.next();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    const std::uint64_t word = i < 16 ? hi : lo;
    out.push_back(kHex[(word >> (60 - 4 * (i % 16))) & 0xf]);
  }
  return out;
}

// 2025-01-01T00:00:00.000Z plus `minutes`: a fixed, ordered creation history.
std::string seed_timestamp(std::int64_t minutes) {
  const std::time_t t = 1735689600 + minutes * 60;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

Product make_product(SplitMix64& rng, std::int64_t i, const Category& category) {
  Product p;
  p.id = uuid_v4(rng);
  const char* adjective = kAdjectives[rng.below(kAdjectives.size())];
  const char* material = kMaterials[rng.below(kMaterials.size())];
  const char* noun = kNouns[rng.below(kNouns.size())];
  p.name = std::string(adjective) + " " + material + " " + noun + " " + std::to_string(i + 1);
  p.description = std::string("A ") + adjective + " " + noun + " made of " + material + ", from our " +
                  category.name + " range.";
  p.category_id = category.id;
  p.category_name = category.name;
  p.price_cents = 99 + static_cast<std::int64_t>(rng.below(99'901));  // 0.99 .. 999.99
  p.stock_quantity = rng.below(10) == 0 ? 0 : 1 + static_cast<std::int64_t>(rng.below(500));
  p.is_active = rng.below(20) != 0;  // 95 %
  p.created_at = seed_timestamp(i);
  p.updated_at = p.created_at;
  return p;
}

void insert_categories(db::Connection& conn, const std::vector<Category>& categories, const std::string& now) {
  for (const auto& c : categories)
    conn.execute("INSERT INTO categories (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                 {c.id, c.name, now});
}

void insert_batch(db::Connection& conn, const std::vector<Product>& products, std::size_t from, std::size_t to) {
  constexpr int kColumns = 9;
  std::string sql =
      "INSERT INTO products (id, name, description, category_id, price_cents, stock_quantity, is_active, "
      "created_at, updated_at) VALUES ";
  db::Params params;
  params.reserve((to - from) * kColumns);
  for (std::size_t i = from; i < to; ++i) {
    const Product& p = products[i];
    sql += i == from ? "(" : ",(";
    for (int c = 1; c <= kColumns; ++c) {
      sql += "$" + std::to_string(params.size() + c);
      sql += c == kColumns ? ")" : ",";
    }
    params.insert(params.end(), {p.id, p.name, p.description, p.category_id, p.price_cents, p.stock_quantity,
                                 std::int64_t{p.is_active ? 1 : 0}, p.created_at, p.updated_at});
  }
  sql += " ON CONFLICT DO NOTHING";
  conn.execute(sql, params);
}

}  // namespace

SeedCatalogue generate_catalogue(const SeedOptions& options) {
  if (options.categories < 1 || options.categories > kMaxSeedCategories)
    throw std::invalid_argument("seed categories must be from 1 to 20");
  if (options.products < 0) throw std::invalid_argument("seed products must not be negative");
  if (options.batch_rows == 0) throw std::invalid_argument("seed batch_rows must be positive");
  SplitMix64 rng(options.seed);
  SeedCatalogue out;
  for (int c = 0; c < options.categories; ++c)
    out.categories.push_back({uuid_v4(rng), kCategoryNames[static_cast<std::size_t>(c)], 0});
  out.products.reserve(static_cast<std::size_t>(options.products));
  for (std::int64_t i = 0; i < options.products; ++i) {
    Category& category = out.categories[static_cast<std::size_t>(i * options.categories / options.products)];
    out.products.push_back(make_product(rng, i, category));
    if (out.products.back().is_active) ++category.product_count;
  }
  return out;
}

std::int64_t seed_catalogue(db::Connection& conn, const SeedOptions& options) {
  if (options.products == 0) return 0;
  const SeedCatalogue catalogue = generate_catalogue(options);
  return db::in_transaction(conn, [&](db::Connection& c) -> std::int64_t {
    if (c.query("SELECT COUNT(*) FROM products")[0].integer(0).value_or(0) > 0) return 0;
    insert_categories(c, catalogue.categories, seed_timestamp(0));
    for (std::size_t from = 0; from < catalogue.products.size(); from += options.batch_rows)
      insert_batch(c, catalogue.products, from, std::min(catalogue.products.size(), from + options.batch_rows));
    return static_cast<std::int64_t>(catalogue.products.size());
  });
}

}  // namespace mambogo::product
