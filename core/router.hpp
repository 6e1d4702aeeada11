// Channel state: who is subscribed to what. The one place that decides which
// connections a channel name reaches (for_each_subscriber), so patterns can
// be added here alone. Knows nothing of transports or frames.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ipchub::core {

struct Connection;

class Router {
public:
    // Returns false when `sub` was already subscribed to `channel`.
    bool subscribe(Connection *sub, std::string_view channel);
    // Returns false when `sub` was not subscribed to `channel`.
    bool unsubscribe(Connection *sub, std::string_view channel);
    // Drops every subscription of `sub` (it disconnected).
    void remove(Connection *sub);

    template <typename Fn> size_t for_each_subscriber(std::string_view channel, Fn &&fn) const {
        auto it = channels_.find(channel);
        if (it == channels_.end()) return 0;
        for (Connection *c : it->second) fn(c);
        return it->second.size();
    }

    size_t subscriber_count(std::string_view channel) const;

    template <typename Fn> void for_each_channel(Fn &&fn) const {
        for (auto &[name, subs] : channels_) fn(name, subs.size());
    }

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::vector<Connection *>, Hash, std::equal_to<>> channels_;
    std::unordered_map<Connection *, std::vector<std::string>> by_connection_;
};

} // namespace ipchub::core
