/*
 * A transport that keeps message boundaries, so the hub's and the client's
 * per-frame paths (IPCHUB_CAP_MESSAGE_BOUNDARIES: one frame per iovec, whole
 * iovecs only) and the max_frame_size limit run against a real plugin. No
 * stock transport declares the capability (see plugin.h).
 *
 * A UNIX SOCK_SEQPACKET socket at <runtime_dir>/<name>.sock: every send is
 * one record, received whole, so each iovec is one record and a short send
 * never splits a frame. Frames are at most SEQPACKET_MAX_FRAME bytes, far
 * below the hub's default limit, so a message published over a byte-stream
 * transport may be too large for this one.
 *
 * TEST_VARIANT_GOOD: the transport above.
 * TEST_VARIANT_SMALLFRAME: declares a max_frame_size below
 *   IPCHUB_MIN_FRAME_SIZE: hosts must refuse it.
 * TEST_VARIANT_CRASHINIT: dies of SIGSEGV in hub_init, to test the hub's
 *   fatal-signal report and the sweep by the next hub.
 * TEST_VARIANT_CRASHLOAD: dies of SIGSEGV in its constructor, inside dlopen.
 * Plain C, like the other test plugins: plugin.h is C.
 */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK */
#include <ipchub/plugin.h>
#include <ipchub/protocol.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef TEST_VARIANT_SMALLFRAME
#define SEQPACKET_MAX_FRAME 1024u
#else
#define SEQPACKET_MAX_FRAME 8192u
#endif
#define READS_PER_WAKEUP 64

#ifdef TEST_VARIANT_CRASHLOAD
__attribute__((constructor)) static void crash_on_load(void) { raise(SIGSEGV); }
#endif

typedef struct hub_state hub_state;

typedef struct conn {
    hub_state *hub;
    int fd;
    void *host_conn;
    int receiving;
    int want_write;
    int hung_up; /* the client hung up while paused: not watched until resumed */
    struct conn *next;
} conn;

struct hub_state {
    const ipchub_host *host;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    uint32_t file_mode;
    uint32_t max_frame;
    int listen_fd;
    conn *conns;
    unsigned char *buffer; /* max_frame bytes: one record */
};

static int error_out(char *err, size_t err_len, int rc, const char *what) {
    snprintf(err, err_len, "%s: %s", what, strerror(-rc));
    return rc;
}

static int socket_path(const char *runtime_dir, char *out, size_t len) {
    int n = snprintf(out, len, "%s/%s.sock", runtime_dir, TEST_PLUGIN_NAME);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void update_watch(conn *c);

static void unlink_conn(conn *c) {
    conn **p = &c->hub->conns;
    while (*p != c) p = &(*p)->next;
    *p = c->next;
}

static void drop(conn *c, int reason) {
    hub_state *h = c->hub;
    void *host_conn = c->host_conn;
    h->host->unwatch_fd(h->host, c->fd);
    close(c->fd);
    unlink_conn(c);
    free(c);
    h->host->conn_closed(h->host, host_conn, reason);
}

static void on_conn_event(void *user, int fd, uint32_t events) {
    conn *c = user;
    hub_state *h = c->hub;
    int i;
    (void)fd;
    if (events & IPCHUB_EV_WRITE) {
        c->want_write = 0;
        update_watch(c);
        h->host->conn_writable(h->host, c->host_conn);
    }
    if (!c->receiving) {
        if (events & IPCHUB_EV_HANGUP) {
            c->hung_up = 1;
            h->host->unwatch_fd(h->host, c->fd);
        }
        return;
    }
    if (!(events & (IPCHUB_EV_READ | IPCHUB_EV_HANGUP))) return;
    /* conn_received may pause this very connection: check before each read. */
    for (i = 0; i < READS_PER_WAKEUP && c->receiving; ++i) {
        ssize_t n = recv(c->fd, h->buffer, h->max_frame, MSG_DONTWAIT);
        if (n > 0) {
            h->host->conn_received(h->host, c->host_conn, h->buffer, (size_t)n);
            continue;
        }
        if (n == 0) {
            drop(c, 0);
            return;
        }
        if (errno == EAGAIN || errno == EINTR) return;
        drop(c, errno);
        return;
    }
}

static void update_watch(conn *c) {
    hub_state *h = c->hub;
    uint32_t ev;
    if (c->hung_up && !c->receiving) return;
    ev = (c->receiving ? IPCHUB_EV_READ : 0u) | (c->want_write ? IPCHUB_EV_WRITE : 0u);
    c->hung_up = 0;
    h->host->watch_fd(h->host, c->fd, ev, on_conn_event, c);
}

static void on_accept(void *user, int fd, uint32_t events) {
    hub_state *h = user;
    (void)fd;
    (void)events;
    for (;;) {
        conn *c;
        int cfd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) return;
        c = calloc(1, sizeof *c);
        if (!c) {
            close(cfd);
            continue;
        }
        c->hub = h;
        c->fd = cfd;
        c->receiving = 1;
        c->host_conn = h->host->conn_opened(h->host, c, "seqpacket peer");
        if (!c->host_conn) {
            close(cfd);
            free(c);
            continue;
        }
        c->next = h->conns;
        h->conns = c;
        update_watch(c);
    }
}

static int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err,
                    size_t err_len) {
#ifdef TEST_VARIANT_CRASHINIT
    (void)host;
    (void)params;
    (void)state;
    (void)err;
    (void)err_len;
    raise(SIGSEGV); /* what a NULL dereference would do, without the compiler's opinion of it */
    return -EFAULT;
#else
    hub_state *h = calloc(1, sizeof *h);
    if (!h) return error_out(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->file_mode = params->file_mode;
    h->listen_fd = -1;
    /* The hub's promise (plugin.h): no frame above params->max_frame_size in
     * either direction. Holding the whole of one is what boundaries need. */
    h->max_frame = params->max_frame_size;
    if (h->max_frame > SEQPACKET_MAX_FRAME) {
        free(h);
        snprintf(err, err_len, "the hub offers frames of %u bytes, above the %u this transport declared",
                 params->max_frame_size, SEQPACKET_MAX_FRAME);
        return -EINVAL;
    }
    h->buffer = malloc(h->max_frame);
    if (!h->buffer || socket_path(params->runtime_dir, h->path, sizeof h->path) < 0) {
        free(h->buffer);
        free(h);
        return error_out(err, err_len, -ENAMETOOLONG, "runtime directory path too long");
    }
    *state = h;
    return 0;
#endif
}

static int hub_start(void *state, char *err, size_t err_len) {
    hub_state *h = state;
    struct sockaddr_un addr;
    int rc;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return error_out(err, err_len, -errno, "socket");
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, h->path, strlen(h->path) + 1);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(h->path, h->file_mode) < 0 ||
        listen(fd, 64) < 0) {
        rc = -errno;
        close(fd);
        unlink(h->path);
        return error_out(err, err_len, rc, h->path);
    }
    h->listen_fd = fd;
    rc = h->host->watch_fd(h->host, fd, IPCHUB_EV_READ, on_accept, h);
    if (rc < 0) return error_out(err, err_len, rc, "watch the listening socket");
    return 0;
}

static void hub_stop(void *state) {
    hub_state *h = state;
    if (h->listen_fd < 0) return;
    h->host->unwatch_fd(h->host, h->listen_fd);
    close(h->listen_fd);
    h->listen_fd = -1;
    unlink(h->path);
}

/* One record per iovec: the hub offers whole frames, each taken whole or not at all. */
static int64_t hub_send(void *state, void *cp, const struct iovec *iov, size_t iovcnt) {
    conn *c = cp;
    int64_t taken = 0;
    size_t i;
    (void)state;
    for (i = 0; i < iovcnt; ++i) {
        ssize_t n = send(c->fd, iov[i].iov_base, iov[i].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) return taken ? taken : -errno;
            if (!c->want_write) {
                c->want_write = 1;
                update_watch(c);
            }
            break;
        }
        taken += n;
    }
    return taken;
}

static void hub_set_receiving(void *state, void *cp, int enabled) {
    conn *c = cp;
    (void)state;
    if (c->receiving == (enabled != 0)) return;
    c->receiving = enabled != 0;
    update_watch(c);
}

static void hub_close(void *state, void *cp) {
    conn *c = cp;
    (void)state;
    c->hub->host->unwatch_fd(c->hub->host, c->fd);
    close(c->fd);
    unlink_conn(c);
    free(c);
}

static void hub_cleanup(void *state) {
    hub_state *h = state;
    hub_stop(h);
    while (h->conns) hub_close(h, h->conns);
    free(h->buffer);
    free(h);
}

static int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (socket_path(params->runtime_dir, path, sizeof path) < 0)
        return error_out(err, err_len, -ENAMETOOLONG, "runtime directory path too long");
    if (unlink(path) < 0 && errno != ENOENT) return error_out(err, err_len, -errno, path);
    return 0;
}

typedef struct client_conn {
    int fd;
} client_conn;

static int wait_for(int fd, short what, int timeout_ms) {
    struct pollfd p;
    int rc;
    p.fd = fd;
    p.events = what;
    do rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc < 0 ? -errno : rc;
}

static int client_connect(const ipchub_client_params *params, void **out, char *err, size_t err_len) {
    struct sockaddr_un addr;
    client_conn *c;
    int fd;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (socket_path(params->runtime_dir, addr.sun_path, sizeof addr.sun_path) < 0)
        return error_out(err, err_len, -ENAMETOOLONG, "runtime directory path too long");
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return error_out(err, err_len, -errno, "socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int rc = -errno;
        close(fd);
        snprintf(err, err_len, "no hub is serving instance '%s' at %s (%s)", params->instance, addr.sun_path,
                 strerror(-rc));
        return rc;
    }
    c = malloc(sizeof *c);
    if (!c) {
        close(fd);
        return error_out(err, err_len, -ENOMEM, "out of memory");
    }
    c->fd = fd;
    *out = c;
    return 0;
}

static int64_t client_send(void *cp, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    client_conn *c = cp;
    int64_t taken = 0;
    size_t i;
    for (i = 0; i < iovcnt; ++i) {
        ssize_t n = send(c->fd, iov[i].iov_base, iov[i].iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            int rc = wait_for(c->fd, POLLOUT, taken ? 0 : timeout_ms);
            if (rc < 0) return taken ? taken : rc;
            if (rc == 0) break;
            --i; /* room now: try the same record again */
            continue;
        }
        if (n < 0) {
            if (errno == EINTR) {
                --i;
                continue;
            }
            return taken ? taken : (errno == ECONNRESET ? -EPIPE : -errno);
        }
        taken += n;
    }
    return taken;
}

static int64_t client_recv(void *cp, void *buf, size_t cap, int timeout_ms) {
    client_conn *c = cp;
    ssize_t n;
    int rc = wait_for(c->fd, POLLIN, timeout_ms);
    if (rc <= 0) return rc;
    n = recv(c->fd, buf, cap, MSG_DONTWAIT);
    if (n == 0) return -EPIPE;
    if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : errno == ECONNRESET ? -EPIPE : -errno;
    return n;
}

static void client_close(void *cp) {
    client_conn *c = cp;
    close(c->fd);
    free(c);
}

static const ipchub_plugin s_table = {
    IPCHUB_ABI_VERSION,
    (uint32_t)sizeof(ipchub_plugin),
    TEST_PLUGIN_NAME,
    "1.0-test",
    "SOCK_SEQPACKET test transport: message boundaries, small frames",
    IPCHUB_CAP_MESSAGE_BOUNDARIES,
    SEQPACKET_MAX_FRAME,
    hub_init,
    hub_start,
    hub_stop,
    hub_send,
    hub_set_receiving,
    hub_close,
    hub_cleanup,
    sweep,
    client_connect,
    client_send,
    client_recv,
    client_close,
    NULL, /* hub_poll: every event arrives on a watched descriptor */
};

IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &s_table;
}
