// A transport's hub half as the broker drives it: the plugin's table, the
// state its hub_init returned, and its name for logs. Whether the table
// came from a loaded shared object (the hub) or is a test's fake is not the
// broker's business.
#pragma once

#include <ipchub/plugin.h>

#include <string>

namespace ipchub::core {

class Transport {
public:
    Transport(const ipchub_plugin &table, std::string name) : table_(&table), name_(std::move(name)) {}

    const ipchub_plugin &api() const { return *table_; }
    const std::string &name() const { return name_; }
    bool keeps_boundaries() const { return api().capabilities & IPCHUB_CAP_MESSAGE_BOUNDARIES; }

    void *state = nullptr; // what hub_init stored
    // The effective limits on this transport (frame_limit/message_limit of the
    // hub's max_message_size and the plugin's max_frame_size): the hub never
    // hands the plugin a larger frame, and announces max_message to its clients.
    uint32_t max_frame = UINT32_MAX;
    uint32_t max_message = UINT32_MAX;

private:
    const ipchub_plugin *table_;
    std::string name_;
};

} // namespace ipchub::core
