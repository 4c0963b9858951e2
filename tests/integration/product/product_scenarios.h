// Test bodies both backends must pass (SQLite; PostgreSQL primary + replica), run against a
// live mambogo-product over real sockets. Each is a void function using QVERIFY/QCOMPARE;
// the caller returns when QTest::currentTestFailed().
//
// The oracle is the seed generator: a fresh service seeded with N products holds exactly
// generate_catalogue({N}), so every page can be computed independently of the service.
#pragma once

#include <algorithm>
#include <functional>
#include <future>

#include "runtime/values.h"
#include "product_fixture.h"

namespace product_test {

using mambogo::product::Product;
using mambogo::product::SeedCatalogue;

inline std::vector<std::string> ids_of(const nlohmann::json& page) {
  std::vector<std::string> ids;
  for (const auto& p : page["content"]) ids.push_back(p["id"].get<std::string>());
  return ids;
}

struct Expected {
  std::vector<std::string> ids;  // the requested page
  std::int64_t total = 0;
  std::vector<Product> all;      // every match, in order
};

inline Expected expected_page(const SeedCatalogue& seed, const std::function<bool(const Product&)>& match,
                              const std::function<bool(const Product&, const Product&)>& before, std::size_t page,
                              std::size_t size) {
  Expected e;
  for (const auto& p : seed.products)
    if (p.is_active && match(p)) e.all.push_back(p);
  std::sort(e.all.begin(), e.all.end(), before);
  e.total = static_cast<std::int64_t>(e.all.size());
  for (std::size_t i = page * size; i < std::min(e.all.size(), (page + 1) * size); ++i) e.ids.push_back(e.all[i].id);
  return e;
}

inline const mambogo::product::Category& category_named(const SeedCatalogue& seed, const std::string& name) {
  return *std::find_if(seed.categories.begin(), seed.categories.end(), [&](const auto& c) { return c.name == name; });
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Filters, sort orders and paging give exactly the oracle's pages. `byte_order_names`: the
// database sorts names by bytes (SQLite's BINARY; a PostgreSQL cluster may use a locale).
inline void catalogue_matches_the_seed(const Client& c, const SeedCatalogue& seed, bool byte_order_names) {
  auto all = [](const Product&) { return true; };
  auto by_price = [](const Product& a, const Product& b) {
    return a.price_cents != b.price_cents ? a.price_cents < b.price_cents : a.id < b.id;
  };
  auto by_price_desc = [](const Product& a, const Product& b) {
    return a.price_cents != b.price_cents ? a.price_cents > b.price_cents : a.id > b.id;
  };
  auto newest = [](const Product& a, const Product& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  };

  // Everything active, default sort (name, asc).
  auto page = c.get_json("/api/products?size=100");
  Expected e = expected_page(seed, all, [](const Product& a, const Product& b) {
    return a.name != b.name ? a.name < b.name : a.id < b.id;
  }, 0, 100);
  QCOMPARE(page["totalElements"].get<std::int64_t>(), e.total);
  QCOMPARE(page["totalPages"].get<std::int64_t>(), (e.total + 99) / 100);
  QCOMPARE(page["size"].get<int>(), 100);
  if (byte_order_names) QCOMPARE(ids_of(page), e.ids);

  // A category by name (any case), second page, by price.
  const auto& books = category_named(seed, "Books");
  page = c.get_json("/api/products?category=books&sort=price,asc&page=1&size=7");
  e = expected_page(seed, [&](const Product& p) { return p.category_id == books.id; }, by_price, 1, 7);
  QCOMPARE(page["totalElements"].get<std::int64_t>(), e.total);
  QCOMPARE(page["page"].get<int>(), 1);
  QCOMPARE(ids_of(page), e.ids);

  // A category by id, in stock, in a price range (bounds included), most expensive first.
  const auto& toys = category_named(seed, "Toys");
  page = c.get_json("/api/products?category=" + toys.id + "&inStock=true&minPrice=100&maxPrice=600.5&sort=price,desc&size=100");
  e = expected_page(seed, [&](const Product& p) {
    return p.category_id == toys.id && p.stock_quantity > 0 && p.price_cents >= 10000 && p.price_cents <= 60050;
  }, by_price_desc, 0, 100);
  QVERIFY(e.total > 0);
  QCOMPARE(page["totalElements"].get<std::int64_t>(), e.total);
  QCOMPARE(ids_of(page), e.ids);
  // Every field of a product, money with two decimals.
  const Product& first = e.all.front();
  const auto& got = page["content"][0];
  QCOMPARE(got["name"].get<std::string>(), first.name);
  QCOMPARE(got["description"].get<std::string>(), first.description);
  QCOMPARE(got["category"].get<std::string>(), std::string("Toys"));
  QCOMPARE(got["categoryId"].get<std::string>(), toys.id);
  QCOMPARE(got["stockQuantity"].get<std::int64_t>(), first.stock_quantity);
  QCOMPARE(got["isActive"].get<bool>(), true);
  QCOMPARE(got["createdAt"].get<std::string>(), first.created_at);
  QCOMPARE(got["updatedAt"].get<std::string>(), first.updated_at);
  const std::string raw = c.get("/api/products?category=" + toys.id + "&inStock=true&minPrice=100&maxPrice=600.5&sort=price,desc&size=1").body;
  QVERIFY2(raw.find("\"price\":" + mambogo::runtime::format_money(first.price_cents) + ",") != std::string::npos, raw.c_str());

  // Newest first.
  page = c.get_json("/api/products?sort=createdAt,desc&size=10");
  QCOMPARE(ids_of(page), expected_page(seed, all, newest, 0, 10).ids);

  // Name prefix, case-insensitive.
  page = c.get_json("/api/products?q=SLEEK%20st&sort=price,asc&size=100");
  e = expected_page(seed, [](const Product& p) { return lower(p.name).rfind("sleek st", 0) == 0; }, by_price, 0, 100);
  QVERIFY(e.total > 0);
  QCOMPARE(page["totalElements"].get<std::int64_t>(), e.total);
  QCOMPARE(ids_of(page), e.ids);

  // Past the last page: empty content, same totals.
  page = c.get_json("/api/products?page=100000&size=100");
  QVERIFY(page["content"].empty());
  QCOMPARE(page["totalElements"].get<std::int64_t>(), expected_page(seed, all, by_price, 0, 1).total);

  // An unknown category is an empty page, not an error.
  page = c.get_json("/api/products?category=NoSuchCategory");
  QCOMPARE(page["totalElements"].get<int>(), 0);

  // Categories with their active product counts.
  auto categories = c.get_json("/api/categories");
  QCOMPARE(categories.size(), seed.categories.size());
  for (const auto& cat : categories) {
    const auto& want = category_named(seed, cat["name"].get<std::string>());
    QCOMPARE(cat["id"].get<std::string>(), want.id);
    QCOMPARE(cat["productCount"].get<std::int64_t>(), want.product_count);
  }
}

inline void expect_error(const RawResponse& r, int status, const std::string& code, const std::string& mentions = {}) {
  QVERIFY2(r.status == status, (std::to_string(r.status) + " " + r.body).c_str());
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  QVERIFY2(j.is_object(), r.body.c_str());
  QCOMPARE(j.value("error", ""), code);
  QVERIFY(!j.value("requestId", "").empty());
  if (!mentions.empty()) QVERIFY2(j.value("message", "").find(mentions) != std::string::npos, r.body.c_str());
}

// Malformed ids and parameters are 400 naming what is wrong, unknown ids 404, bad bodies 400
// or 415 -- and none of them changes any stock.
inline void bad_input_is_refused_and_changes_nothing(const Client& c, const Tokens& tokens, const std::string& product) {
  const auto before = c.get_json("/api/products/" + product)["stockQuantity"].get<int>();
  expect_error(c.get("/api/products/not-a-uuid"), 400, "bad_request", "UUID");
  expect_error(c.get("/api/products/12345678-1234-1234-1234-12345678901"), 400, "bad_request");
  expect_error(c.get("/api/products/00000000-0000-4000-8000-000000000000"), 404, "not_found");
  QCOMPARE(c.get("/api/products/" + QString::fromStdString(product).toUpper().toStdString()).status, 200);
  expect_error(c.get("/api/products?size=500"), 400, "bad_request", "size");
  expect_error(c.get("/api/products?page=-1"), 400, "bad_request", "page");
  expect_error(c.get("/api/products?minPrice=abc"), 400, "bad_request", "minPrice");
  expect_error(c.get("/api/products?sort=stock"), 400, "bad_request", "sort");
  expect_error(c.get("/api/products?inStock=1"), 400, "bad_request", "inStock");

  const std::string svc = tokens.service();
  const std::string reserve = "/api/inventory/reserve";
  expect_error(c.request("POST", reserve, "{not json", svc), 400, "invalid_json");
  expect_error(c.request("POST", reserve, "[1,2]", svc), 400, "invalid_json");
  expect_error(c.post(reserve, reserve_body("nope", {{product, 1}}), svc), 400, "bad_request", "orderId");
  expect_error(c.post(reserve, reserve_body(new_order_id(), {{product, 0}}), svc), 400, "bad_request", "quantity");
  expect_error(c.post(reserve, reserve_body(new_order_id(), {{product, -3}}), svc), 400, "bad_request", "quantity");
  expect_error(c.post(reserve, reserve_body(new_order_id(), {{"p-1", 1}}), svc), 400, "bad_request", "productId");
  expect_error(c.post(reserve, reserve_body(new_order_id(), {}), svc), 400, "bad_request", "items");
  auto text_body = mambogo::test::http_request(c.port(), "POST", reserve, reserve_body(new_order_id(), {{product, 1}}).dump(),
                                               "Authorization: Bearer " + svc + "\r\nContent-Type: text/plain\r\n");
  QVERIFY(text_body);
  QCOMPARE(text_body->status, 415);
  expect_error(c.post("/api/inventory/release", {{"orderId", 7}}, svc), 400, "bad_request", "orderId");
  QCOMPARE(c.get_json("/api/products/" + product)["stockQuantity"].get<int>(), before);
}

// Inventory is internal: no token 401, a user's token 403, service and admin pass.
inline void inventory_needs_the_service_or_admin_role(const Client& c, const Tokens& tokens) {
  const auto body = reserve_body(new_order_id(), {{"00000000-0000-4000-8000-000000000000", 1}});
  const auto none = c.post("/api/inventory/reserve", body, {});
  expect_error(none, 401, "unauthorized");
  QVERIFY(none.header("www-authenticate").find("Bearer") == 0);
  expect_error(c.post("/api/inventory/reserve", body, "garbage.token.here"), 401, "unauthorized");
  expect_error(c.post("/api/inventory/reserve", body, tokens.user()), 403, "forbidden");
  expect_error(c.post("/api/inventory/release", {{"orderId", new_order_id()}}, tokens.user()), 403, "forbidden");
  expect_error(c.post("/api/inventory/reserve", body, tokens.service()), 422, "unknown_product");
  expect_error(c.post("/api/inventory/reserve", body, tokens.admin()), 422, "unknown_product");
}

// 50 reservations of one unit at once on a product with 10 left: exactly 10 succeed, the
// other 40 are 409, and the stock ends at 0 -- never below.
inline void fifty_parallel_reservations_never_oversell(const Client& c, const Tokens& tokens, const std::string& product) {
  const std::string svc = tokens.service();
  const int stock = c.get_json("/api/products/" + product)["stockQuantity"].get<int>();
  QVERIFY2(stock >= 10, "the test needs a product with at least 10 in stock");
  if (stock > 10) QCOMPARE(c.post("/api/inventory/reserve", reserve_body(new_order_id(), {{product, stock - 10}}), svc).status, 200);
  QCOMPARE(c.get_json("/api/products/" + product)["stockQuantity"].get<int>(), 10);

  std::vector<std::future<int>> calls;
  for (int i = 0; i < 50; ++i)
    calls.push_back(std::async(std::launch::async, [&c, &svc, &product] {
      return c.post("/api/inventory/reserve", reserve_body(new_order_id(), {{product, 1}}), svc).status;
    }));
  int ok = 0, refused = 0, other = 0;
  for (auto& f : calls) {
    const int status = f.get();
    (status == 200 ? ok : status == 409 ? refused : other)++;
  }
  QCOMPARE(other, 0);
  QCOMPARE(ok, 10);
  QCOMPARE(refused, 40);
  const auto after = c.get("/api/products/" + product);
  QCOMPARE(nlohmann::json::parse(after.body)["stockQuantity"].get<int>(), 0);
  QCOMPARE(after.header("x-cache"), std::string("DB"));  // the stock change invalidated the cache
}

// All or nothing; a repeat of an orderId replays the first answer and takes nothing more;
// a release gives back once.
inline void reservations_are_atomic_idempotent_and_released_once(const Client& c, const Tokens& tokens,
                                                                   const Product& a, const Product& b) {
  const std::string svc = tokens.service();
  auto stock = [&](const Product& p) { return c.get_json("/api/products/" + p.id)["stockQuantity"].get<int>(); };
  const int a0 = stock(a), b0 = stock(b);
  QVERIFY(a0 >= 5 && b0 >= 5);

  // b cannot be satisfied: nothing of a is taken either.
  expect_error(c.post("/api/inventory/reserve", reserve_body(new_order_id(), {{a.id, 2}, {b.id, b0 + 1}}), svc), 409,
               "insufficient_stock", b.id);
  const std::string missing = "00000000-0000-4000-8000-00000000beef";
  expect_error(c.post("/api/inventory/reserve", reserve_body(new_order_id(), {{a.id, 1}, {missing, 1}}), svc), 422,
               "unknown_product", missing);
  QCOMPARE(stock(a), a0);
  QCOMPARE(stock(b), b0);

  const std::string order = new_order_id();
  const auto first = c.post("/api/inventory/reserve", reserve_body(order, {{a.id, 2}, {b.id, 1}}), svc);
  QCOMPARE(first.status, 200);
  auto answer = nlohmann::json::parse(first.body);
  QCOMPARE(answer["orderId"].get<std::string>(), order);
  QCOMPARE(answer["reserved"].get<bool>(), true);
  QCOMPARE(answer["items"].size(), std::size_t(2));
  QCOMPARE(answer["items"][0]["productId"].get<std::string>(), a.id);
  QCOMPARE(answer["items"][0]["quantity"].get<int>(), 2);
  QVERIFY2(first.body.find("\"unitPrice\":" + mambogo::runtime::format_money(a.price_cents)) != std::string::npos, first.body.c_str());
  QVERIFY2(first.body.find("\"totalAmount\":" + mambogo::runtime::format_money(2 * a.price_cents + b.price_cents)) != std::string::npos,
           first.body.c_str());
  QCOMPARE(stock(a), a0 - 2);
  QCOMPARE(stock(b), b0 - 1);

  // Repeats, even with other items, replay the first answer and reserve nothing more.
  const auto again = c.post("/api/inventory/reserve", reserve_body(order, {{a.id, 2}, {b.id, 1}}), svc);
  QCOMPARE(again.status, 200);
  QCOMPARE(again.body, first.body);
  QCOMPARE(c.post("/api/inventory/reserve", reserve_body(order, {{a.id, 5}}), svc).body, first.body);
  QCOMPARE(stock(a), a0 - 2);
  QCOMPARE(stock(b), b0 - 1);

  // Release gives back once.
  auto released = c.post("/api/inventory/release", {{"orderId", order}}, svc);
  QCOMPARE(released.status, 200);
  QCOMPARE(nlohmann::json::parse(released.body), (nlohmann::json{{"orderId", order}, {"released", true}}));
  QCOMPARE(stock(a), a0);
  QCOMPARE(stock(b), b0);
  released = c.post("/api/inventory/release", {{"orderId", order}}, svc);
  QCOMPARE(nlohmann::json::parse(released.body)["released"].get<bool>(), false);
  QCOMPARE(stock(a), a0);
  // The order's reservation is settled: a late repeat replays, it does not take stock again.
  QCOMPARE(c.post("/api/inventory/reserve", reserve_body(order, {{a.id, 2}, {b.id, 1}}), svc).body, first.body);
  QCOMPARE(stock(a), a0);
  QCOMPARE(nlohmann::json::parse(c.post("/api/inventory/release", {{"orderId", new_order_id()}}, svc).body)["released"].get<bool>(),
           false);
}

// Ten identical reserves of one order at the same moment (a client retrying on timeouts):
// every one gets the same answer, and the stock goes down once.
inline void same_order_in_parallel_reserves_once(const Client& c, const Tokens& tokens, const Product& p) {
  const std::string svc = tokens.service();
  const int before = c.get_json("/api/products/" + p.id)["stockQuantity"].get<int>();
  const auto body = reserve_body(new_order_id(), {{p.id, 2}});
  std::vector<std::future<RawResponse>> calls;
  for (int i = 0; i < 10; ++i)
    calls.push_back(std::async(std::launch::async, [&] { return c.post("/api/inventory/reserve", body, svc); }));
  std::vector<RawResponse> answers;
  for (auto& f : calls) answers.push_back(f.get());
  for (const auto& a : answers) {
    QCOMPARE(a.status, 200);
    QCOMPARE(a.body, answers.front().body);
  }
  QCOMPARE(c.get_json("/api/products/" + p.id)["stockQuantity"].get<int>(), before - 2);
}

// /admin/settings: 401 without a token, 403 for a user, the product switches for an admin;
// a bad value is refused and changes nothing.
inline void switches_need_an_admin(const Client& c, const Tokens& tokens) {
  QCOMPARE(c.get("/admin/settings").status, 401);
  QCOMPARE(c.get("/admin/settings", tokens.user()).status, 403);
  QCOMPARE(c.get("/admin/settings", tokens.service()).status, 403);
  QCOMPARE(c.set({{"cache.l1.enabled", false}}, tokens.user()).status, 403);
  QCOMPARE(c.set({{"cache.l1.enabled", false}}, {}).status, 401);
  auto settings = c.get_json("/admin/settings", tokens.admin());
  for (const char* name : {"cache.l1.enabled", "cache.l2.enabled", "db.read-routing", "db.pool.max-size", "executor.max-threads"})
    QVERIFY2(settings.contains(name), name);
  QCOMPARE(settings["cache.l1.enabled"]["value"].get<bool>(), true);
  QCOMPARE(settings["cache.l1.enabled"]["type"].get<std::string>(), std::string("bool"));
  QCOMPARE(c.set({{"cache.l1.enabled", "maybe"}}, tokens.admin()).status, 400);
  QCOMPARE(c.get_json("/admin/settings", tokens.admin())["cache.l1.enabled"]["value"].get<bool>(), true);
}

}  // namespace product_test
