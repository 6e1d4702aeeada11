// The connections of a transport's hub half, owned in one place, with one
// way to tear a connection down.
//
// Two ways a connection ends, and the ABI tells them apart:
//  - lost(c, reason): the peer went away (EOF, error, death). Torn down,
//    then reported with host->conn_closed, exactly once, if the hub knew it.
//  - close(c): the hub asked (hub_close), or the plugin gives up on a client
//    the hub never heard of (a failed handshake), or cleanup. Torn down, and
//    never reported.
// Teardown is the connection type's own `void teardown(const ipchub_host *)`
// (unwatch and close its descriptors, cancel its timers, remove its names),
// then the set forgets and deletes it. `Conn` has a member
// `void *host_conn` (the hub's handle; nullptr until report_opened).
//
// Hub thread only, like everything of a hub half.
#pragma once

#include <ipchub/plugin.h>

#include <unistd.h>

#include <cstddef>
#include <unordered_set>
#include <vector>

namespace ipchub::plugin {

// Unwatches and closes `fd` (when open) and sets it to -1: the teardown of
// one watched descriptor. (The ABI wants unwatch before close.)
inline void close_watched(const ipchub_host *host, int &fd) {
    if (fd < 0) return;
    host->unwatch_fd(host, fd);
    ::close(fd);
    fd = -1;
}

template <typename Conn> class ConnectionSet {
public:
    explicit ConnectionSet(const ipchub_host *host = nullptr) : host_(host) {}
    ConnectionSet(const ConnectionSet &) = delete;
    ConnectionSet &operator=(const ConnectionSet &) = delete;
    ~ConnectionSet() { close_all(); }

    void set_host(const ipchub_host *host) { host_ = host; }

    // Takes ownership of `c` before the hub knows it (a handshake is running).
    void add(Conn *c) { conns_.insert(c); }

    // Tells the hub about `c` (conn_opened with the `peer` description) and
    // owns it. False when the hub refused it: `c` is torn down and freed.
    bool report_opened(Conn *c, const char *peer) {
        conns_.insert(c);
        c->host_conn = host_->conn_opened(host_, c, peer);
        if (c->host_conn) return true;
        close(c);
        return false;
    }

    // The peer went away: teardown, then conn_closed(reason) if the hub knew
    // `c`. A connection no longer in the set is ignored (already gone), so
    // two events for one death still report once. False when ignored.
    bool lost(Conn *c, int reason) {
        if (!contains(c)) return false;
        void *host_conn = c->host_conn;
        destroy(c);
        if (host_conn) host_->conn_closed(host_, host_conn, reason);
        return true;
    }

    // Teardown without a report (hub_close, a failed handshake).
    void close(Conn *c) {
        if (contains(c)) destroy(c);
    }

    // hub_cleanup: every connection, none reported.
    void close_all() {
        while (!conns_.empty()) destroy(*conns_.begin());
    }

    bool contains(Conn *c) const { return conns_.count(c) != 0; }
    size_t size() const { return conns_.size(); }
    bool empty() const { return conns_.empty(); }
    // A copy, for loops that may tear down what they visit.
    std::vector<Conn *> snapshot() const { return {conns_.begin(), conns_.end()}; }
    auto begin() const { return conns_.begin(); }
    auto end() const { return conns_.end(); }

private:
    void destroy(Conn *c) {
        conns_.erase(c);
        c->teardown(host_);
        delete c;
    }

    const ipchub_host *host_;
    std::unordered_set<Conn *> conns_;
};

} // namespace ipchub::plugin
