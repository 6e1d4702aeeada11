// The broker as one transport's connection services: that plugin's conn_*
// calls, arriving through its host bridge, become broker calls that know
// which transport the connection belongs to.
#pragma once

#include "broker.hpp"
#include "host_bridge.hpp"

namespace ipchub::core {

class BrokerPort final : public ConnectionServices {
public:
    BrokerPort(Broker &broker, Transport &transport) : broker_(broker), transport_(transport) {}

    void *opened(void *plugin_conn, const char *peer) override { return broker_.open(&transport_, plugin_conn, peer); }
    void received(void *host_conn, const void *data, size_t len) override {
        broker_.received(static_cast<Connection *>(host_conn), data, len);
    }
    void writable(void *host_conn) override { broker_.writable(static_cast<Connection *>(host_conn)); }
    void closed(void *host_conn, int reason) override {
        broker_.closed_by_peer(static_cast<Connection *>(host_conn), reason);
    }

private:
    Broker &broker_;
    Transport &transport_;
};

} // namespace ipchub::core
