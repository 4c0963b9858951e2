#include "apiserver/api_server.h"

#include "apiserver/handler.h"
#include "apiserver/transport.h"

namespace mambogo::sim {

struct ApiServer::Impl {
  Impl(Store& store, NodeBackend* node, ApiServerOptions opts)
      : options(std::move(opts)),
        handler(store, node, options.bearer_token,
                [this] { return options.address + ":" + std::to_string(transport.port()); }, options.service_network),
        transport(handler, options) {}
  ApiServerOptions options;
  api::Handler handler;
  api::Transport transport;
};

ApiServer::ApiServer(Store& store, NodeBackend* node, ApiServerOptions options)
    : impl_(std::make_unique<Impl>(store, node, std::move(options))) {}

ApiServer::~ApiServer() { stop(); }

void ApiServer::start() {
  impl_->handler.ensure_namespaces();
  impl_->transport.start();
}

std::uint16_t ApiServer::port() const { return impl_->transport.port(); }

void ApiServer::stop() { impl_->transport.stop(); }

Json ApiServer::apply(const Json& object) { return impl_->handler.apply(object); }

}  // namespace mambogo::sim
