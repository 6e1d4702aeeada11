// The plugin support kit: what every stock transport shares, compiled into
// each .so (not part of the ABI, never seen by the hub). One header per job;
// this umbrella includes them all.
//
//   errors.hpp          format_error: a negative errno plus a message
//   plugin_table.hpp    IPCHUB_PLUGIN_TABLE and IPCHUB_PLUGIN_ENTRY: the ABI table
//   plugin_halves.hpp   the hub_*/client_* declarations and table members, once
//   config_object.hpp   the plugin's "config" object, unknown keys rejected
//   connection_set.hpp  owning a hub half's connections; one teardown path
//   peer.hpp            accept with SO_PEERCRED
//   unix_socket.hpp     listen/connect on the instance's socket files
//   listener.hpp        the hub's listening socket: accept loop, out-of-descriptor guard
//   repeated_warning.hpp a warning said once per interval, with a count
//   stream_io.hpp       a byte stream over a socket, pipe or FIFO
//   sigpipe_guard.hpp   writing to a pipe without dying of SIGPIPE
//   clock.hpp           monotonic clocks, Deadline
//   wait_fd.hpp         poll one descriptor until a deadline
//   spin.hpp            cpu_relax, spin_until
//   pidfd.hpp           pidfd_open, process_alive
#pragma once

#include "clock.hpp"
#include "config_object.hpp"
#include "connection_set.hpp"
#include "errors.hpp"
#include "peer.hpp"
#include "pidfd.hpp"
#include "plugin_halves.hpp"
#include "plugin_table.hpp"
#include "repeated_warning.hpp"
#include "sigpipe_guard.hpp"
#include "spin.hpp"
#include "stream_hub.hpp"
#include "stream_io.hpp"
#include "listener.hpp"
#include "unix_socket.hpp"
#include "wait_fd.hpp"
