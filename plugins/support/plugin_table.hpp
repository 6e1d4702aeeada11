// Declaring a transport's ABI table and its one exported entry point.
//
//   namespace ipchub::socket {
//   IPCHUB_PLUGIN_TABLE(kPlugin,
//       .name = "socket", .version = "1.0", .description = "...",
//       .hub_init = hub_init, ...)   // designated initializers, in the order of plugin.h
//   }
//   IPCHUB_PLUGIN_ENTRY(ipchub::socket::kPlugin)
//
// The table gets abi_version and struct_size filled in (the two members every
// table must get right and nobody should type by hand); members left out are
// zero or NULL, which the ABI reads as "absent" where it allows that (sweep,
// hub_poll). plugin_table() is the same without the macro.
#pragma once

#include <ipchub/plugin.h>

namespace ipchub::plugin {

constexpr ipchub_plugin plugin_table(ipchub_plugin table) {
    table.abi_version = IPCHUB_ABI_VERSION;
    table.struct_size = sizeof(ipchub_plugin);
    return table;
}

} // namespace ipchub::plugin

// Defines `constexpr ipchub_plugin var` from designated initializers. GCC's
// -Wmissing-field-initializers would flag every member left out, which is
// the point of designated initializers here, so it is silenced for this one
// definition only.
#define IPCHUB_PLUGIN_TABLE(var, ...)                                                   \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmissing-field-initializers\"") \
    constexpr ipchub_plugin var = ::ipchub::plugin::plugin_table(ipchub_plugin{__VA_ARGS__});          \
    _Pragma("GCC diagnostic pop")

// Defines the exported ipchub_plugin_entry returning `table` to a host of the
// same major ABI version, NULL ("cannot work with this host") to any other.
// Use once per plugin, at global scope.
#define IPCHUB_PLUGIN_ENTRY(table)                                                                     \
    extern "C" IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) { \
        return IPCHUB_ABI_MAJOR(host_abi_version) == IPCHUB_ABI_VERSION_MAJOR ? &(table) : nullptr;    \
    }
