// mambogo-product: the product service (catalogue, three cache layers, inventory
// reservations). Configuration: `mambogo-product --help`; API: cluster/README.md.
#include "product/product_service.h"
#include "runtime/service.h"

int main(int argc, char** argv) {
  return mambogo::runtime::service_main(
      "product-service", argc, argv,
      [](mambogo::runtime::Service& service) {
        auto settings = mambogo::product::read_product_settings(service.config());
        if (!service.ready_to_build()) return;  // refuse a bad configuration before opening anything
        mambogo::product::install_product_service(service, settings);
      },
      8081);
}
