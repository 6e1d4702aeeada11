#include "router.hpp"

#include <algorithm>

namespace ipchub::core {

namespace {
template <typename T, typename V> bool erase_value(std::vector<T> &v, const V &value) {
    auto it = std::find(v.begin(), v.end(), value);
    if (it == v.end()) return false;
    v.erase(it);
    return true;
}
} // namespace

bool Router::subscribe(Connection *sub, std::string_view channel) {
    auto &mine = by_connection_[sub];
    if (std::find(mine.begin(), mine.end(), channel) != mine.end()) return false;
    mine.emplace_back(channel);
    auto it = channels_.find(channel);
    if (it == channels_.end()) it = channels_.emplace(std::string(channel), std::vector<Connection *>{}).first;
    it->second.push_back(sub);
    return true;
}

bool Router::unsubscribe(Connection *sub, std::string_view channel) {
    auto mine = by_connection_.find(sub);
    if (mine == by_connection_.end() || !erase_value(mine->second, channel)) return false;
    if (mine->second.empty()) by_connection_.erase(mine);
    auto it = channels_.find(channel);
    if (it != channels_.end()) {
        erase_value(it->second, sub);
        if (it->second.empty()) channels_.erase(it);
    }
    return true;
}

void Router::remove(Connection *sub) {
    auto mine = by_connection_.find(sub);
    if (mine == by_connection_.end()) return;
    for (auto &channel : mine->second) {
        auto it = channels_.find(channel);
        if (it == channels_.end()) continue;
        erase_value(it->second, sub);
        if (it->second.empty()) channels_.erase(it);
    }
    by_connection_.erase(mine);
}

size_t Router::subscriber_count(std::string_view channel) const {
    auto it = channels_.find(channel);
    return it == channels_.end() ? 0 : it->second.size();
}

} // namespace ipchub::core
