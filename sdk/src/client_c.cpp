// The C client API (sdk/include/ipchub/client.h) over the C++ Client: every
// call catches what the C++ side throws and turns it into a negative errno
// plus a message, so no exception ever crosses into C.
#include <ipchub/client.h>
#include <ipchub/client.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

struct ipchub_client {
    ipchub::Client cpp;
};

namespace {

int code_of(ipchub::Error::Kind kind) {
    using K = ipchub::Error::Kind;
    switch (kind) {
    case K::config:
    case K::invalid:
        return -EINVAL;
    case K::backend:
        return -ENOPROTOOPT;
    case K::no_hub:
        return -ECONNREFUSED;
    case K::disconnected:
        return -EPIPE;
    case K::refused:
        return -EREMOTEIO;
    case K::timeout:
        return -ETIMEDOUT;
    case K::io:
        break;
    }
    return -EIO;
}

int report(char *err, size_t err_len, int code, const char *text) {
    if (err && err_len) std::snprintf(err, err_len, "%s", text);
    return code;
}

// Runs `body`; maps any exception to (negative errno, message).
template <typename Body> auto guarded(char *err, size_t err_len, Body body) -> decltype(body()) {
    using R = decltype(body());
    try {
        return body();
    } catch (const ipchub::Error &e) {
        return R(report(err, err_len, code_of(e.kind()), e.what()));
    } catch (const std::bad_alloc &) {
        return R(report(err, err_len, -ENOMEM, "out of memory"));
    } catch (const std::exception &e) {
        return R(report(err, err_len, -EIO, e.what()));
    } catch (...) {
        return R(report(err, err_len, -EIO, "unexpected internal error"));
    }
}

// A member of the caller's options exists only if its struct_size covers it.
#define HAS_OPTION(o, member) \
    ((o)->struct_size >= offsetof(ipchub_client_options, member) + sizeof(((ipchub_client_options *)0)->member))

std::string text_option(const char *s) { return s ? s : ""; }

} // namespace

extern "C" {

int ipchub_client_connect(const ipchub_client_options *options, ipchub_client **client, char *err, size_t err_len) {
    if (!client) return report(err, err_len, -EINVAL, "ipchub_client_connect: client is NULL");
    *client = nullptr;
    if (options && options->struct_size < offsetof(ipchub_client_options, backend))
        return report(err, err_len, -EINVAL, "ipchub_client_connect: options.struct_size not set "
                                             "(start from IPCHUB_CLIENT_OPTIONS_INIT)");
    return guarded(err, err_len, [&]() -> int {
        ipchub::ClientOptions o;
        if (options) {
            if (HAS_OPTION(options, backend) && options->backend) o.backend = options->backend;
            if (HAS_OPTION(options, instance)) o.instance = text_option(options->instance);
            if (HAS_OPTION(options, runtime_dir)) o.runtime_dir = text_option(options->runtime_dir);
            if (HAS_OPTION(options, config_path)) o.config_path = text_option(options->config_path);
            if (HAS_OPTION(options, plugin_dir)) o.plugin_dir = text_option(options->plugin_dir);
            if (HAS_OPTION(options, name)) o.name = text_option(options->name);
            if (HAS_OPTION(options, connect_timeout_ms) && options->connect_timeout_ms > 0)
                o.connect_timeout_ms = options->connect_timeout_ms;
        }
        *client = new ipchub_client{ipchub::Client::connect(o)};
        return 0;
    });
}

#define CHECK_ARGS(c, channel)                                                                     \
    do {                                                                                           \
        if (!(c)) return report(err, err_len, -EINVAL, "client is NULL");                          \
        if (!(channel)) return report(err, err_len, -EINVAL, "channel is NULL");                   \
    } while (0)

int ipchub_client_subscribe(ipchub_client *c, const char *channel, char *err, size_t err_len) {
    CHECK_ARGS(c, channel);
    return guarded(err, err_len, [&] {
        c->cpp.subscribe(channel);
        return 0;
    });
}

int ipchub_client_unsubscribe(ipchub_client *c, const char *channel, char *err, size_t err_len) {
    CHECK_ARGS(c, channel);
    return guarded(err, err_len, [&] {
        c->cpp.unsubscribe(channel);
        return 0;
    });
}

int64_t ipchub_client_publish(ipchub_client *c, const char *channel, const void *payload, size_t payload_len,
                              char *err, size_t err_len) {
    CHECK_ARGS(c, channel);
    if (!payload && payload_len) return report(err, err_len, -EINVAL, "payload is NULL");
    return guarded(err, err_len, [&] {
        return int64_t(c->cpp.publish(channel, std::string_view(static_cast<const char *>(payload), payload_len)));
    });
}

int ipchub_client_publish_nowait(ipchub_client *c, const char *channel, const void *payload, size_t payload_len,
                                 char *err, size_t err_len) {
    CHECK_ARGS(c, channel);
    if (!payload && payload_len) return report(err, err_len, -EINVAL, "payload is NULL");
    return guarded(err, err_len, [&] {
        c->cpp.publish_nowait(channel, std::string_view(static_cast<const char *>(payload), payload_len));
        return 0;
    });
}

int ipchub_client_flush(ipchub_client *c, char *err, size_t err_len) {
    if (!c) return report(err, err_len, -EINVAL, "client is NULL");
    return guarded(err, err_len, [&] {
        c->cpp.flush();
        return 0;
    });
}

int ipchub_client_receive(ipchub_client *c, int timeout_ms, ipchub_message **message, char *err, size_t err_len) {
    if (!c || !message) return report(err, err_len, -EINVAL, "client or message is NULL");
    *message = nullptr;
    return guarded(err, err_len, [&]() -> int {
        auto m = c->cpp.receive(timeout_ms);
        if (!m) return 0;
        // One block: the struct, the channel and the payload, each NUL-terminated.
        size_t size = sizeof(ipchub_message) + m->channel.size() + 1 + m->payload.size() + 1;
        auto *block = static_cast<char *>(std::malloc(size));
        if (!block) throw std::bad_alloc();
        char *channel = block + sizeof(ipchub_message);
        char *payload = channel + m->channel.size() + 1;
        std::memcpy(channel, m->channel.data(), m->channel.size());
        channel[m->channel.size()] = '\0';
        if (!m->payload.empty()) std::memcpy(payload, m->payload.data(), m->payload.size());
        payload[m->payload.size()] = '\0';
        auto *msg = new (block) ipchub_message{channel, payload, m->payload.size(), m->id};
        *message = msg;
        return 1;
    });
}

void ipchub_message_free(ipchub_message *message) { std::free(message); }

int64_t ipchub_client_stats(ipchub_client *c, char *buf, size_t cap, char *err, size_t err_len) {
    if (!c) return report(err, err_len, -EINVAL, "client is NULL");
    if (!buf && cap) return report(err, err_len, -EINVAL, "buf is NULL");
    return guarded(err, err_len, [&] {
        std::string text = c->cpp.stats();
        if (cap) {
            size_t n = std::min(text.size(), cap - 1);
            std::memcpy(buf, text.data(), n);
            buf[n] = '\0';
        }
        return int64_t(text.size());
    });
}

uint32_t ipchub_client_max_message_size(const ipchub_client *c) { return c ? c->cpp.max_message_size() : 0; }

void ipchub_client_close(ipchub_client *c) {
    // ~Client flushes and swallows its own errors; guard anyway.
    try {
        delete c;
    } catch (...) {
    }
}

} // extern "C"
