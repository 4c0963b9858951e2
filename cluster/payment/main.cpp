// mambogo-payment: payment-service (payment_service.h). The PaymentService is declared after
// the runtime Service so that it is destroyed first, once the service has drained: nothing of
// it (threads, metrics) outlives the registry it reports to.
#include <iostream>

#include "payment/payment_service.h"

int main(int argc, char** argv) {
  using namespace mambogo;
  const char* name = "payment-service";
  try {
    auto config = runtime::Config::from_process(argc, argv);
    runtime::Service service(name, config, 8084);
    auto settings = payment::read_payment_settings(config);
    if (config.help_requested()) {
      std::cout << name << "\n\n" << config.usage();
      return 0;
    }
    config.finish();
    payment::PaymentService payments(service, settings);
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
