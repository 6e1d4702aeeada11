/*
 * ipchub C client API: connect to a hub over any transport, subscribe,
 * publish, receive. A thin C face of the C++ client (ipchub/client.hpp) for C
 * programs and other languages' FFIs; link with -lipchub (pkg-config ipchub).
 *
 *   ipchub_client_options o = IPCHUB_CLIENT_OPTIONS_INIT;
 *   o.backend = "socket";
 *   char err[256];
 *   ipchub_client *c;
 *   if (ipchub_client_connect(&o, &c, err, sizeof err) < 0) { puts(err); return 1; }
 *   ipchub_client_subscribe(c, "news", err, sizeof err);
 *   int64_t reached = ipchub_client_publish(c, "news", "hi", 2, err, sizeof err);
 *   ipchub_message *m;
 *   if (ipchub_client_receive(c, 1000, &m, err, sizeof err) == 1) {
 *       printf("[%s] %.*s\n", m->channel, (int)m->payload_len, (const char *)m->payload);
 *       ipchub_message_free(m);
 *   }
 *   ipchub_client_close(c);
 *
 * Conventions:
 *  - Every function that can fail returns a negative errno value and, when
 *    `err` is not NULL and `err_len` > 0, writes a one-line reason into it
 *    (NUL-terminated, truncated to err_len). On success `err` is untouched.
 *    The values: -EINVAL bad argument (channel name, message too large) or
 *    invalid/missing plugins.json; -ENOPROTOOPT backend unknown, disabled or
 *    not loadable; -ECONNREFUSED no hub serves the instance; -EPIPE the hub
 *    closed the connection or died (the handle is then only good for close);
 *    -EREMOTEIO the hub refused the request; -ETIMEDOUT no answer in time;
 *    -ENOMEM; -EIO anything else.
 *  - No C++ exception ever leaves these functions.
 *  - A handle is used by one thread at a time (distinct handles are
 *    independent). Strings are UTF-8/ASCII, NUL-terminated; payloads are any
 *    bytes (NULs included) with an explicit length.
 *  - Memory: every object the library allocates has its own free function
 *    (ipchub_message_free, ipchub_client_close); the caller owns nothing else.
 */
#ifndef IPCHUB_CLIENT_H
#define IPCHUB_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An open connection to a hub (opaque). */
typedef struct ipchub_client ipchub_client;

/* Connection options. Start from IPCHUB_CLIENT_OPTIONS_INIT so that
 * `struct_size` says which members this program knows: later versions of the
 * library only append members and treat the missing ones as defaults. Every
 * string may be NULL (= the default); the library copies what it needs. */
typedef struct ipchub_client_options {
    uint32_t struct_size;       /* sizeof(ipchub_client_options) */
    const char *backend;        /* transport name; NULL = "socket" */
    const char *instance;       /* NULL = $IPCHUB_INSTANCE or "default" */
    const char *runtime_dir;    /* NULL = $IPCHUB_RUNTIME_DIR, $XDG_RUNTIME_DIR/ipchub or /tmp/ipchub-<uid> */
    const char *config_path;    /* plugins.json; NULL = $IPCHUB_CONFIG or the installed one */
    const char *plugin_dir;     /* searched first (":"-separated), then plugins.json plugin_dirs, then $IPCHUB_PLUGIN_DIR or the installed directory */
    const char *name;           /* shown in the hub's log; NULL = "client" */
    int32_t connect_timeout_ms; /* <= 0: 5000 */
} ipchub_client_options;

#define IPCHUB_CLIENT_OPTIONS_INIT \
    { (uint32_t)sizeof(ipchub_client_options), NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/* A received message, allocated by the library in one block: free it with
 * ipchub_message_free. `payload` is followed by a NUL byte that is not
 * counted in payload_len (handy for text; binary payloads use the length). */
typedef struct ipchub_message {
    const char *channel;
    const void *payload;
    size_t payload_len;
    uint64_t id; /* the publisher's message id */
} ipchub_message;

/* Connects and greets the hub. `options` may be NULL (all defaults). On
 * success stores the handle in *client and returns 0. */
IPCHUB_API int ipchub_client_connect(const ipchub_client_options *options, ipchub_client **client, char *err,
                                     size_t err_len);

/* Subscribes (or unsubscribes) and waits for the hub's confirmation, so a
 * publish that starts after this returns reaches this client. */
IPCHUB_API int ipchub_client_subscribe(ipchub_client *client, const char *channel, char *err, size_t err_len);
IPCHUB_API int ipchub_client_unsubscribe(ipchub_client *client, const char *channel, char *err, size_t err_len);

/* Publishes and waits for the acknowledgement. Returns how many subscribers
 * the message was delivered to (>= 0), or a negative errno. */
IPCHUB_API int64_t ipchub_client_publish(ipchub_client *client, const char *channel, const void *payload,
                                         size_t payload_len, char *err, size_t err_len);

/* Queues a message without waiting (batched; sent when the batch is large, on
 * flush, receive or publish; order is kept). Returns 0 or a negative errno. */
IPCHUB_API int ipchub_client_publish_nowait(ipchub_client *client, const char *channel, const void *payload,
                                            size_t payload_len, char *err, size_t err_len);
IPCHUB_API int ipchub_client_flush(ipchub_client *client, char *err, size_t err_len);

/* Waits up to timeout_ms (< 0: forever) for the next message of a subscribed
 * channel. Returns 1 and stores a new message in *message, 0 on timeout
 * (*message = NULL), or a negative errno. */
IPCHUB_API int ipchub_client_receive(ipchub_client *client, int timeout_ms, ipchub_message **message, char *err,
                                     size_t err_len);
IPCHUB_API void ipchub_message_free(ipchub_message *message);

/* The hub's statistics as JSON text, snprintf-style: writes at most `cap`
 * bytes (NUL included) into buf (may be NULL when cap is 0) and returns the
 * full length of the text, or a negative errno. */
IPCHUB_API int64_t ipchub_client_stats(ipchub_client *client, char *buf, size_t cap, char *err, size_t err_len);

/* Largest payload the hub accepts, as it announced at connect. */
IPCHUB_API uint32_t ipchub_client_max_message_size(const ipchub_client *client);

/* Sends what is still queued (best effort), closes and frees. NULL is fine. */
IPCHUB_API void ipchub_client_close(ipchub_client *client);

#ifdef __cplusplus
}
#endif

#endif /* IPCHUB_CLIENT_H */
