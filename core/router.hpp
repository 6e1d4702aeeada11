// Channel state: who is subscribed to what. The one place that decides which
// connections a channel name reaches (for_each_subscriber), so patterns can
// be added here alone. Knows nothing of transports or frames.
//
// Every operation costs O(1) on average whatever the number of channels or
// subscriptions (a client with 40,000 subscriptions must not make the next
// SUBSCRIBE, UNSUBSCRIBE or disconnect slow for everyone): a channel keeps
// its subscribers in a vector (fan-out walks contiguous memory) plus each
// one's position in it (removal swaps with the last), and a connection keeps
// the set of its channels. Fan-out order among subscribers is unspecified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ipchub::core {

struct Connection;

class Router {
public:
    struct Limits {
        size_t max_subscriptions_per_connection = SIZE_MAX;
        size_t max_channels = SIZE_MAX; // channels with at least one subscriber
    };
    enum class Subscribed { added, already, too_many_subscriptions, too_many_channels };

    Router() = default;
    explicit Router(Limits limits) : limits_(limits) {}

    Subscribed subscribe(Connection *sub, std::string_view channel);
    // Returns false when `sub` was not subscribed to `channel`.
    bool unsubscribe(Connection *sub, std::string_view channel);
    // Drops every subscription of `sub` (it disconnected).
    void remove(Connection *sub);

    // `fn` must not subscribe, unsubscribe or remove while it runs.
    template <typename Fn> size_t for_each_subscriber(std::string_view channel, Fn &&fn) const {
        auto it = channels_.find(channel);
        if (it == channels_.end()) return 0;
        for (Connection *c : it->second.subscribers) fn(c);
        return it->second.subscribers.size();
    }

    size_t subscriber_count(std::string_view channel) const;
    size_t subscription_count(Connection *sub) const;
    size_t channel_count() const { return channels_.size(); }

    // At most `max` channels (in no particular order): a summary costs what it shows.
    template <typename Fn> void for_each_channel(Fn &&fn, size_t max = SIZE_MAX) const {
        for (auto &[name, ch] : channels_) {
            if (max-- == 0) return;
            fn(name, ch.subscribers.size());
        }
    }

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct Channel {
        std::vector<Connection *> subscribers;
        std::unordered_map<Connection *, size_t> position; // index in `subscribers`
    };
    using Channels = std::unordered_map<std::string, Channel, Hash, std::equal_to<>>;

    // Removes `sub` from the channel `it` names, and the channel once empty.
    void drop(Channels::iterator it, Connection *sub);

    Limits limits_;
    Channels channels_; // unordered_map: element addresses stay valid, so connections may point at them
    std::unordered_map<Connection *, std::unordered_set<const std::string *>> by_connection_; // keys of channels_
};

} // namespace ipchub::core
