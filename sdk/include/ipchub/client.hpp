// ipchub C++ client API: connect to a hub over any transport, subscribe,
// publish, receive. The transport is chosen by name at run time ("socket",
// "fifo", "mqueue", "shm", "pipe", or a third-party plugin) and loaded through
// the same plugin registry as the hub, so the same code runs on any backend.
//
//   ipchub::Client client = ipchub::Client::connect({.backend = "shm"});
//   client.subscribe("news");
//   uint32_t got = client.publish("news", "hello");  // subscribers reached
//   if (auto msg = client.receive(1000)) std::cout << msg->payload;
//
// A Client is used from one thread at a time. Errors are reported by throwing
// ipchub::Error, whose what() is one line fit for a user.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "export.h"

namespace ipchub {

// Exported whole: thrown inside libipchub and caught by the caller, so its
// typeinfo and vtable must be the same on both sides of the library boundary.
class IPCHUB_API Error : public std::runtime_error {
public:
    enum class Kind {
        config,       // plugins.json missing or invalid
        backend,      // unknown, disabled or unloadable transport
        no_hub,       // nothing serves the instance
        disconnected, // the hub closed the connection or died
        refused,      // the hub answered with an ERROR frame
        invalid,      // bad argument (channel name, size)
        timeout,
        io
    };
    Error(Kind kind, const std::string &what) : std::runtime_error(what), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

struct ClientOptions {
    std::string backend = "socket";
    std::string instance;     // "" = IPCHUB_INSTANCE or "default"
    std::string runtime_dir;  // "" = IPCHUB_RUNTIME_DIR or $XDG_RUNTIME_DIR/ipchub or /tmp/ipchub-<uid>
    std::string config_path;  // "" = IPCHUB_CONFIG or the installed plugins.json
    std::string plugin_dir;   // searched first (":"-separated list), then plugins.json plugin_dirs, then $IPCHUB_PLUGIN_DIR or the installed directory
    std::string name;         // shown in the hub's log
    int connect_timeout_ms = 5000;
};

struct Message {
    std::string channel;
    std::string payload;
    uint64_t id = 0;
};

class IPCHUB_API Client {
public:
    static Client connect(const ClientOptions &options);

    Client(Client &&) noexcept;
    Client &operator=(Client &&) noexcept;
    ~Client();

    // Subscribing waits until the hub confirmed, so a publish that starts
    // after subscribe() returns reaches this client.
    void subscribe(std::string_view channel);
    void unsubscribe(std::string_view channel);

    // Publishes and waits for the hub's acknowledgement; returns how many
    // subscribers the message was delivered to.
    uint32_t publish(std::string_view channel, std::string_view payload);

    // Streams without waiting: messages are batched and sent when the batch
    // is large or on flush(), receive(), publish(). Order is preserved.
    void publish_nowait(std::string_view channel, std::string_view payload);
    void flush();

    // Next message of a subscribed channel; std::nullopt after timeout_ms
    // (< 0: wait forever).
    std::optional<Message> receive(int timeout_ms = -1);

    // For high message rates: calls `handler(channel, payload, id)` for every
    // message that is already here or arrives within timeout_ms (one read's
    // worth), without copying each into a Message. The views are valid only
    // during the call. Returns how many messages were handled (0 on timeout).
    using MessageHandler = std::function<void(std::string_view channel, std::string_view payload, uint64_t id)>;
    size_t receive_each(const MessageHandler &handler, int timeout_ms = -1);

    // The hub's statistics as JSON text.
    std::string stats();

    uint32_t max_message_size() const; // as announced by the hub
    const std::string &backend() const;
    const std::string &instance() const;

private:
    struct Impl;
    IPCHUB_LOCAL explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace ipchub
