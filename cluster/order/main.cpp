// mambogo-order: order-service (cluster/README.md). Like runtime::service_main, but the
// order parts stop before the Service is destroyed: the batch writer answers what it holds
// and the processor's passes finish while the metrics registry and logger still exist.
#include <iostream>

#include "order/order_service.h"

using namespace mambogo;

int main(int argc, char** argv) {
  const std::string name = "order-service";
  try {
    runtime::Config config = runtime::Config::from_process(argc, argv);
    runtime::Service service(name, config, 8083);
    std::unique_ptr<order::OrderService> orders;
    try {
      orders = std::make_unique<order::OrderService>(service);
    } catch (const runtime::ConfigError&) {
      throw;
    } catch (const std::exception&) {
      if (!config.help_requested()) config.finish();  // a bad value is the news, not its consequence
      throw;
    }
    if (config.help_requested()) {
      std::cout << name << "\n\n" << config.usage();
      return 0;
    }
    config.finish();
    service.start();
    orders->start();
    const int code = service.run_until_signal();
    orders->stop();
    return code;
  } catch (const runtime::ConfigError& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << name << ": cannot start: " << e.what() << "\n";
    return 1;
  }
}
