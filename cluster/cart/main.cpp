// mambogo-cart: cart-service (cart_service.h). The CartService is declared after
// the runtime Service so that it is destroyed first, once the service has drained: nothing of
// it (threads, metrics) outlives the registry it reports to.
#include <iostream>

#include "cart/cart_service.h"

int main(int argc, char** argv) {
  using namespace mambogo;
  const char* name = "cart-service";
  try {
    auto config = runtime::Config::from_process(argc, argv);
    runtime::Service service(name, config, 8082);
    auto settings = cart::read_cart_settings(config);
    if (config.help_requested()) {
      std::cout << name << "\n\n" << config.usage();
      return 0;
    }
    config.finish();
    cart::CartService carts(service, settings);
    service.start();
    return service.run_until_signal();
  } catch (const runtime::ConfigError& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << name << ": cannot start: " << e.what() << "\n";
    return 1;
  }
}
