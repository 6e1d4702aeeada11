/*
 * ipchub transport plugin ABI.
 *
 * A transport plugin is a shared object that exports exactly one symbol,
 * IPCHUB_PLUGIN_ENTRY_SYMBOL ("ipchub_plugin_entry"), which returns a
 * pointer to a constant ipchub_plugin table. The table holds both halves of
 * the transport: the hub half (runs inside myipchub, on the hub's event-loop
 * thread) and the client half (runs inside client programs: myipcpub,
 * myipcsub, myipcbench and anything built on libipchub).
 *
 * Plain C on purpose: a plugin may be written in C, C++ or Rust and built by
 * another compiler than the hub. No C++ types, exceptions or ownership cross
 * this boundary. Functions return 0 (or a non-negative count) on success and a
 * negative errno value on failure; where an `err` buffer is passed, a failing
 * function writes a one-line, human-readable reason into it (NUL-terminated,
 * truncated to `err_len`).
 *
 * Versioning (the rules are spelled out in docs/plugin-guide.md):
 *  - Every struct that crosses the boundary starts with `abi_version` and
 *    `struct_size`. IPCHUB_ABI_VERSION packs major << 16 | minor.
 *  - A different MAJOR version means incompatible: the hub refuses the plugin.
 *  - Within one major version members are only ever appended. A reader checks
 *    `struct_size` before touching a member (IPCHUB_HAS_MEMBER), so a plugin
 *    built against an older header works with a newer hub and the other way
 *    round; a member beyond the writer's `struct_size` reads as absent (NULL).
 *
 * Threads: unless a function says otherwise, the hub calls the hub half only
 * from its single event-loop thread, and the plugin calls the host only from
 * that thread. The one exception is ipchub_host.post, which any thread may call.
 * The client half is called from whatever thread the client program uses, one
 * thread per connection at a time; send and receive of one connection may be
 * called from two different threads concurrently (one sender, one receiver).
 *
 * Re-entrancy: the hub may call back into the plugin from inside a host call.
 *  - From inside conn_received the hub may call hub_set_receiving(conn, 0)
 *    for the connection being read (a backlog filled: that client must
 *    wait). So finish updating the connection's state before calling
 *    conn_received, and check whether it is still receiving before reading
 *    more in the same loop. Tolerate a pause or resume of any connection.
 *  - The hub never calls hub_send, hub_close or hub_cleanup from inside
 *    conn_opened, conn_received, conn_writable, conn_closed or hub_poll:
 *    frames are handed over, and connections closed, after the current
 *    batch of events. A plugin may rely on that (no send re-entering its
 *    read loop, no connection freed under its feet).
 */
#ifndef IPCHUB_PLUGIN_H
#define IPCHUB_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h> /* struct iovec */

#ifdef __cplusplus
extern "C" {
#endif

#define IPCHUB_ABI_VERSION_MAJOR 1u
#define IPCHUB_ABI_VERSION_MINOR 1u
#define IPCHUB_MAKE_ABI_VERSION(major, minor) (((uint32_t)(major) << 16) | (uint32_t)(minor))
#define IPCHUB_ABI_VERSION IPCHUB_MAKE_ABI_VERSION(IPCHUB_ABI_VERSION_MAJOR, IPCHUB_ABI_VERSION_MINOR)
#define IPCHUB_ABI_MAJOR(v) ((uint32_t)(v) >> 16)
#define IPCHUB_ABI_MINOR(v) ((uint32_t)(v)&0xffffu)

/* True when a struct written with `struct_size` bytes contains `member`. */
#define IPCHUB_HAS_MEMBER(ptr, type, member) \
    ((ptr)->struct_size >= offsetof(type, member) + sizeof(((type *)0)->member))

#define IPCHUB_PLUGIN_ENTRY_SYMBOL "ipchub_plugin_entry"

#if defined(__GNUC__)
#define IPCHUB_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define IPCHUB_PLUGIN_EXPORT
#endif

/* Capability flags (ipchub_plugin.capabilities). */
/* The mechanism keeps message boundaries (a SOCK_SEQPACKET or datagram
 * socket): the hub then offers one frame per iovec, always starting at a frame
 * boundary, and the plugin takes each iovec whole or not at all (the return
 * of hub_send/client_send is a sum of whole iovecs). Without it the transport
 * is a byte stream and may take part of an iovec; none of the stock
 * transports declares it (mqueue and shm cut frames into messages or ring
 * records of their own, so they are byte streams to the hub).
 * tests/plugins/seqpacket_plugin.c is the in-tree transport that declares it. */
#define IPCHUB_CAP_MESSAGE_BOUNDARIES 0x1u
/* The transport can pass file descriptors (reserved for later use). */
#define IPCHUB_CAP_FD_PASSING 0x2u
/* Clients of this transport are children the hub started (pipe). A client
 * program cannot connect on its own; client_connect finds inherited
 * descriptors instead of a rendezvous point. */
#define IPCHUB_CAP_SPAWNED_CHILDREN 0x4u
/* The transport reaches other hosts (tcp): traffic may leave the machine. */
#define IPCHUB_CAP_NETWORK 0x8u

/* The smallest non-zero ipchub_plugin.max_frame_size a host accepts: every
 * control frame (HELLO, ERROR, ACK) fits, so the conversation never needs a
 * frame the transport cannot carry. Hosts refuse a plugin declaring less. */
#define IPCHUB_MIN_FRAME_SIZE 8192u

/* Event bits for ipchub_host.watch_fd and the callback it installs. */
#define IPCHUB_EV_READ 0x1u
#define IPCHUB_EV_WRITE 0x2u
#define IPCHUB_EV_HANGUP 0x4u /* reported only: error or hang-up on the descriptor */
/* Since ABI 1.1, for watch_fd only: edge-triggered. The callback runs once
 * each time the descriptor becomes ready again (for an eventfd: on every
 * write), not for as long as it stays ready, so a doorbell need not be read
 * to stop the callbacks: one system call less per wake-up. The plugin must
 * then handle everything that is pending in the callback (or make sure
 * another edge comes). A 1.0 host does not know the bit: use it only when
 * IPCHUB_ABI_MINOR(host->abi_version) >= 1. Hosts refuse unknown bits with
 * -EINVAL. */
#define IPCHUB_EV_EDGE 0x8u

/* Log levels for ipchub_host.log. */
#define IPCHUB_LOG_ERROR 0
#define IPCHUB_LOG_WARN 1
#define IPCHUB_LOG_INFO 2
#define IPCHUB_LOG_DEBUG 3

typedef void (*ipchub_fd_callback)(void *user, int fd, uint32_t events);
typedef void (*ipchub_callback)(void *user);

/*
 * What the hub offers a plugin's hub half. Owned by the hub; valid from
 * hub_init until hub_cleanup returns. All calls on the hub thread except post.
 */
typedef struct ipchub_host {
    uint32_t abi_version;
    uint32_t struct_size;
    void *ctx; /* the hub's; pass the host pointer back, never touch ctx */

    /* Write one line to the hub's log, prefixed with the plugin's name. */
    void (*log)(const struct ipchub_host *host, int level, const char *message);

    /* Watch `fd` for `events` (IPCHUB_EV_READ | IPCHUB_EV_WRITE) and call `cb`
     * on the hub thread when it is ready. Level-triggered, unless `events`
     * has IPCHUB_EV_EDGE (ABI 1.1 hosts). A descriptor is watched at most
     * once; watch again to change the events or callback. Bits no ABI
     * version defines: -EINVAL. The plugin keeps ownership of `fd` and must
     * unwatch it before closing. */
    int (*watch_fd)(const struct ipchub_host *host, int fd, uint32_t events, ipchub_fd_callback cb,
                    void *user);
    int (*unwatch_fd)(const struct ipchub_host *host, int fd);

    /* Call `cb` after `delay_ms` (and every `delay_ms` after that when
     * `repeat` is non-zero). Returns a timer id > 0, or a negative errno. */
    int64_t (*add_timer)(const struct ipchub_host *host, uint32_t delay_ms, int repeat, ipchub_callback cb,
                         void *user);
    void (*cancel_timer)(const struct ipchub_host *host, int64_t timer_id);

    /* THREAD-SAFE: may be called from any thread (a plugin's own waiter
     * thread). Queues `cb` to run once on the hub thread and wakes the loop.
     * Callbacks posted before hub_cleanup returns either run before it or not
     * at all: a plugin must stop its threads in hub_stop. */
    int (*post)(const struct ipchub_host *host, ipchub_callback cb, void *user);

    /* A client connected. `plugin_conn` is the plugin's handle for it (passed
     * back in hub_send, hub_set_receiving and hub_close); `peer` describes it
     * for the log (e.g. "pid 1234"; may be NULL). Returns the host's handle
     * for the connection, to pass to the conn_* calls below, or NULL when the
     * hub refuses it (then the plugin closes and frees it itself). */
    void *(*conn_opened)(const struct ipchub_host *host, void *plugin_conn, const char *peer);

    /* Bytes arrived from a client: the next `len` bytes of its byte stream of
     * frames (protocol.h). The plugin need not find frame boundaries; the hub
     * reassembles. `data` is only borrowed for the call. The hub may decide to
     * close the connection because of what it read: it then calls hub_close
     * later, never from inside this call. */
    void (*conn_received)(const struct ipchub_host *host, void *host_conn, const void *data, size_t len);

    /* A send returned short (or -EAGAIN) and the transport can take more now.
     * The hub will call hub_send again. */
    void (*conn_writable)(const struct ipchub_host *host, void *host_conn);

    /* The client went away (EOF, error, or death noticed otherwise). `reason`
     * is 0 for an orderly close or a positive errno. After this call the hub
     * never passes this connection's plugin_conn to the plugin again and the
     * plugin frees it once the call returns. Must not be called for a
     * connection the hub is closing through hub_close.
     * A client that hangs up while the hub has paused it (hub_set_receiving
     * 0): the plugin neither loses the hang-up nor spins on it. It remembers
     * it and stops watching the descriptor (a level-triggered hang-up would
     * fire forever); when the hub resumes the connection, it hands over what
     * the client sent before hanging up (conn_received) and then calls
     * conn_closed. The hub always resumes a paused connection or closes it
     * (hub_close) in the end: it pauses one only while another connection's
     * backlog drains, and that connection's closing releases it too. */
    void (*conn_closed)(const struct ipchub_host *host, void *host_conn, int reason);
} ipchub_host;

/* Parameters for the hub half. Owned by the hub, valid during hub_init only
 * (copy what you keep). */
typedef struct ipchub_hub_params {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *instance;     /* e.g. "default"; [A-Za-z0-9._-]{1,64} */
    const char *runtime_dir;  /* the instance's directory, exists, mode 0700 */
    const char *config_json;  /* the plugin's "config" object from plugins.json ("{}" if none) */
    /* The largest frame (header + channel + payload) that will cross this
     * transport in either direction: the hub's own limit for its max message
     * size, lowered to the plugin's max_frame_size when that is non-zero.
     * The hub never hands hub_send a larger frame and clients built on
     * libipchub never send one, so size buffers with it; a hostile client
     * may still try (cut what does not fit: the hub then reads a malformed
     * stream and closes that connection). */
    uint32_t max_frame_size;
    uint32_t file_mode;       /* mode for named objects the plugin creates (default 0600) */
    /* Since ABI 1.1. The hub's "spin_us" setting: how long the hub keeps
     * polling (hub_poll) after activity before it sleeps; 0 = never spins.
     * A transport whose clients wait in user space (shm) may pass it on to
     * them so they spin as long before sleeping. */
    uint32_t spin_us;
} ipchub_hub_params;

/* Parameters for the client half. Owned by the caller, valid during
 * client_connect only. */
typedef struct ipchub_client_params {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *instance;
    const char *runtime_dir; /* the instance's directory (may not exist: hub not running) */
    const char *config_json; /* the plugin's "config" object from plugins.json ("{}" if none) */
    uint32_t max_frame_size; /* as in ipchub_hub_params: the client never sends a larger frame */
    int32_t connect_timeout_ms; /* how long to wait for the hub to answer; < 0: default (5000) */
} ipchub_client_params;

/*
 * The plugin's table. Returned by the entry point; must stay valid until the
 * shared object is unloaded. Function members may be NULL only where noted.
 */
typedef struct ipchub_plugin {
    uint32_t abi_version; /* IPCHUB_ABI_VERSION the plugin was built with */
    uint32_t struct_size; /* sizeof(ipchub_plugin) the plugin was built with */
    const char *name;        /* backend name, e.g. "socket": [a-z0-9_-]{1,32} */
    const char *version;     /* the plugin's own version, free text; shown by myipchub --list-plugins */
    const char *description; /* one line; shown by myipchub --list-plugins and myipcbench */
    uint32_t capabilities;   /* IPCHUB_CAP_* */
    /* Largest frame the transport can carry; 0 = no limit of its own (byte
     * streams). Non-zero: at least IPCHUB_MIN_FRAME_SIZE. The hub makes it
     * the transport's limit (params.max_frame_size), logs it at start,
     * announces the matching message size to the transport's clients (who
     * then refuse to publish larger), and does not deliver a larger message
     * published over another transport to this transport's subscribers: it
     * counts it as too_large_dropped in the stats and logs the first per
     * connection. */
    uint32_t max_frame_size;

    /* ---- hub half (hub thread only) ---- */

    /* Create the transport's state from `params` (validate config_json here).
     * Must not accept clients yet. On success store the state in *state. */
    int (*hub_init)(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err,
                    size_t err_len);
    /* Create the rendezvous point (socket, registration FIFO, queue...) and
     * start accepting. */
    int (*hub_start)(void *state, char *err, size_t err_len);
    /* Stop accepting new clients (shutdown begins). Existing connections stay
     * usable until hub_close. Stop any threads of the plugin's own here. */
    void (*hub_stop)(void *state);
    /* Hand frames to a client: `iov[0..iovcnt)` in order, each iovec one frame
     * or the rest of a frame that a previous call took only part of. Never
     * blocks. Returns how many bytes were taken (0..total; the plugin owns
     * copies of what it took) or a negative errno (the connection is broken;
     * the hub closes it). With IPCHUB_CAP_MESSAGE_BOUNDARIES only whole iovecs
     * may be taken. When it returns less than the total, the plugin calls
     * host->conn_writable once it can take more. */
    int64_t (*hub_send)(void *state, void *conn, const struct iovec *iov, size_t iovcnt);
    /* Pause (enabled = 0) or resume reading from a client: backpressure. While
     * paused the plugin calls no conn_received for it and leaves the data in
     * the mechanism, so the client blocks once the mechanism is full. */
    void (*hub_set_receiving)(void *state, void *conn, int enabled);
    /* Close a connection and free it (called by the hub: shutdown, protocol
     * error, or the hub dropped it). No conn_closed follows. */
    void (*hub_close)(void *state, void *conn);
    /* Remove every object this instance created (socket file, FIFOs, queues,
     * segments), close all descriptors and free the state. Called once, after
     * every connection was closed. */
    void (*hub_cleanup)(void *state);

    /* May be NULL. Remove what a dead hub of this instance left behind
     * (the hub took over its lock). Not called while another hub runs. */
    int (*sweep)(const ipchub_hub_params *params, char *err, size_t err_len);

    /* ---- client half (any thread, see top of file) ---- */

    /* Connect to the hub of params->instance. Fails with -ENOENT or
     * -ECONNREFUSED (and a message saying so) when no hub serves it. */
    int (*client_connect)(const ipchub_client_params *params, void **conn, char *err, size_t err_len);
    /* Send bytes of the client's frame stream, same contract as hub_send but
     * blocking: waits up to `timeout_ms` (< 0: forever) for room. Returns
     * bytes taken (may be short; 0 on timeout) or a negative errno: -EPIPE
     * when the hub is gone. */
    int64_t (*client_send)(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms);
    /* Receive the next bytes of the hub's frame stream into buf. Waits up to
     * `timeout_ms` (< 0: forever). Returns bytes read (> 0), 0 on timeout, or
     * a negative errno: -EPIPE when the hub closed the connection or died.
     * `cap` is at least IPCHUB_FRAME_HEADER_SIZE (protocol.h) and, with
     * IPCHUB_CAP_MESSAGE_BOUNDARIES, at least params->max_frame_size, so a
     * whole frame always fits; a byte stream may return any part of it. */
    int64_t (*client_recv)(void *conn, void *buf, size_t cap, int timeout_ms);
    /* Close and free a client connection. */
    void (*client_close)(void *conn);

    /* ---- since ABI 1.1: the host checks IPCHUB_HAS_MEMBER first ---- */

    /* May be NULL (the transport has nothing to poll: every event it needs
     * arrives on a watched descriptor). Called on the hub thread only when
     * the hub spins (spin_us > 0): for up to spin_us after its last activity
     * the hub polls instead of sleeping in epoll, and calls this on every
     * round. Move whatever is ready (conn_received, conn_writable, ...)
     * without blocking and preferably without a system call.
     * `sleeping` = 0 while the spin lasts: the hub is awake, so the
     * transport may tell its clients they need not wake it (saving them a
     * system call per message). `sleeping` = 1 once, when the spin ran out
     * and the hub is about to block: arm whatever wakes it (after which
     * watched descriptors must fire again for new data) and report anything
     * that arrived meanwhile. Returns > 0 when it handled something (the
     * hub then keeps spinning), 0 when there was nothing, or a negative errno
     * when polling broke (logged; the hub never calls it again, so the
     * transport's descriptors must be able to wake the hub from then on). */
    int (*hub_poll)(void *state, int sleeping);
} ipchub_plugin;

/* The entry point every plugin exports. `host_abi_version` is the hub's
 * IPCHUB_ABI_VERSION: a plugin that supports several majors may pick the
 * table that matches; returning NULL means "cannot work with this host". */
typedef const ipchub_plugin *(*ipchub_plugin_entry_fn)(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* IPCHUB_PLUGIN_H */
