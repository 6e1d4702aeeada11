#include "router.hpp"

namespace ipchub::core {

Router::Subscribed Router::subscribe(Connection *sub, std::string_view channel) {
    auto it = channels_.find(channel);
    auto mine = by_connection_.find(sub);
    if (it != channels_.end() && it->second.position.count(sub)) return Subscribed::already;
    if (mine != by_connection_.end() && mine->second.size() >= limits_.max_subscriptions_per_connection)
        return Subscribed::too_many_subscriptions;
    if (limits_.max_subscriptions_per_connection == 0) return Subscribed::too_many_subscriptions;
    if (it == channels_.end()) {
        if (channels_.size() >= limits_.max_channels) return Subscribed::too_many_channels;
        it = channels_.emplace(std::string(channel), Channel{}).first;
    }
    Channel &ch = it->second;
    ch.position.emplace(sub, ch.subscribers.size());
    ch.subscribers.push_back(sub);
    if (mine == by_connection_.end()) mine = by_connection_.emplace(sub, std::unordered_set<const std::string *>{}).first;
    mine->second.insert(&it->first);
    return Subscribed::added;
}

void Router::drop(Channels::iterator it, Connection *sub) {
    Channel &ch = it->second;
    auto pos = ch.position.find(sub);
    if (pos == ch.position.end()) return;
    size_t index = pos->second;
    Connection *last = ch.subscribers.back();
    ch.subscribers[index] = last;
    ch.position[last] = index;
    ch.subscribers.pop_back();
    ch.position.erase(sub);
    if (ch.subscribers.empty()) channels_.erase(it);
}

bool Router::unsubscribe(Connection *sub, std::string_view channel) {
    auto it = channels_.find(channel);
    if (it == channels_.end() || !it->second.position.count(sub)) return false;
    auto mine = by_connection_.find(sub);
    mine->second.erase(&it->first);
    if (mine->second.empty()) by_connection_.erase(mine);
    drop(it, sub);
    return true;
}

void Router::remove(Connection *sub) {
    auto mine = by_connection_.find(sub);
    if (mine == by_connection_.end()) return;
    for (const std::string *name : mine->second) drop(channels_.find(*name), sub);
    by_connection_.erase(mine);
}

size_t Router::subscriber_count(std::string_view channel) const {
    auto it = channels_.find(channel);
    return it == channels_.end() ? 0 : it->second.subscribers.size();
}

size_t Router::subscription_count(Connection *sub) const {
    auto mine = by_connection_.find(sub);
    return mine == by_connection_.end() ? 0 : mine->second.size();
}

} // namespace ipchub::core
