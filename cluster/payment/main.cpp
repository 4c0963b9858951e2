// mambogo-payment: payment-service (payment_service.h) on the runtime's service_main. The
// PaymentService is kept by the Service, so it stops after the drain and before the metrics
// registry and logger it reports to.
#include "payment/payment_service.h"

int main(int argc, char** argv) {
  using namespace mambogo;
  return runtime::service_main(
      "payment-service", argc, argv,
      [](runtime::Service& service) {
        const auto settings = payment::read_payment_settings(service.config());
        if (!service.ready_to_build()) return;
        service.keep(std::make_unique<payment::PaymentService>(service, settings));
      },
      8084);
}
