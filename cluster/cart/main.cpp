// mambogo-cart: cart-service (cart_service.h) on the runtime's service_main. The CartService
// is kept by the Service, so it stops after the drain and before the metrics registry and
// logger it reports to.
#include "cart/cart_service.h"

int main(int argc, char** argv) {
  using namespace mambogo;
  return runtime::service_main(
      "cart-service", argc, argv,
      [](runtime::Service& service) {
        const auto settings = cart::read_cart_settings(service.config());
        if (!service.ready_to_build()) return;
        service.keep(std::make_unique<cart::CartService>(service, settings));
      },
      8082);
}
