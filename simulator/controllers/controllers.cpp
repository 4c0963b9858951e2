#include "controllers/controllers.h"

namespace mambogo::sim {

Controllers::Controllers(Store& store, const NodeBackend& node, Options options)
    : replica_sets_(store, options.replica_sets),
      deployments_(store, options.deployments),
      stateful_sets_(store, options.stateful_sets),
      endpoints_(store, options.endpoints),
      garbage_collector_(store, options.garbage_collector),
      hpa_(store, node, options.hpa) {}

Controllers::~Controllers() { stop(); }

void Controllers::start() {
  replica_sets_.start();
  deployments_.start();
  stateful_sets_.start();
  endpoints_.start();
  garbage_collector_.start();
  hpa_.start();
}

void Controllers::stop() {
  hpa_.stop();
  garbage_collector_.stop();
  endpoints_.stop();
  stateful_sets_.stop();
  deployments_.stop();
  replica_sets_.stop();
}

}  // namespace mambogo::sim
