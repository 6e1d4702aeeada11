/*
 * A working transport with an unusual table size, for the ABI tests: it
 * forwards every call to the stock socket plugin (dlopen'd from
 * SOCKET_PLUGIN_PATH), listening in its own subdirectory <runtime_dir>/<name>/
 * so it can run beside the socket transport in one hub.
 *
 * TEST_VARIANT_OLD: the table is a frozen copy of the ABI 1.0 layout, with
 *   struct_size = sizeof(that) and poison function pointers right after it in
 *   memory. When plugin.h grows (1.1 appends members), this still is a
 *   1.0-sized table: a hub that read past struct_size would call the poison.
 * TEST_VARIANT_NEW: a table from "the future": ABI 1.(minor+1), members
 *   appended after today's struct that are poison. The hub must load it,
 *   use what it knows and never call what it does not.
 * A poison function prints why and aborts, so a test sees the hub die.
 */
#include <ipchub/plugin.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ABI 1.0's table, frozen: never edit (that is the point). */
struct plugin_table_1_0 {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
    const char *version;
    const char *description;
    uint32_t capabilities;
    uint32_t max_frame_size;
    int (*hub_init)(const ipchub_host *, const ipchub_hub_params *, void **, char *, size_t);
    int (*hub_start)(void *, char *, size_t);
    void (*hub_stop)(void *);
    int64_t (*hub_send)(void *, void *, const struct iovec *, size_t);
    void (*hub_set_receiving)(void *, void *, int);
    void (*hub_close)(void *, void *);
    void (*hub_cleanup)(void *);
    int (*sweep)(const ipchub_hub_params *, char *, size_t);
    int (*client_connect)(const ipchub_client_params *, void **, char *, size_t);
    int64_t (*client_send)(void *, const struct iovec *, size_t, int);
    int64_t (*client_recv)(void *, void *, size_t, int);
    void (*client_close)(void *);
};
/* The 1.0 table is a prefix of today's: same offsets for every member. */
_Static_assert(offsetof(struct plugin_table_1_0, client_close) == offsetof(ipchub_plugin, client_close),
               "plugin.h changed the 1.0 layout: that breaks every 1.0 plugin");

static const ipchub_plugin *inner;
static void *inner_handle;

__attribute__((destructor)) static void unload_inner(void) {
    if (inner_handle) dlclose(inner_handle);
}

static void poison(void) {
    fprintf(stderr, "ABI VIOLATION: the host called a member beyond plugin '%s' struct_size\n", TEST_PLUGIN_NAME);
    abort();
}

struct state {
    void *inner_state;
    char dir[4096];
};

static void sub_dir(const char *runtime_dir, char *out, size_t cap) {
    snprintf(out, cap, "%s/%s", runtime_dir, TEST_PLUGIN_NAME);
}

static int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **out, char *err, size_t err_len) {
    struct state *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    sub_dir(params->runtime_dir, s->dir, sizeof s->dir);
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, err_len, "cannot create %s: %s", s->dir, strerror(e));
        free(s);
        return -e;
    }
    ipchub_hub_params p = *params;
    p.runtime_dir = s->dir;
    int rc = inner->hub_init(host, &p, &s->inner_state, err, err_len);
    if (rc < 0) {
        rmdir(s->dir);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}
static int hub_start(void *st, char *err, size_t err_len) {
    return inner->hub_start(((struct state *)st)->inner_state, err, err_len);
}
static void hub_stop(void *st) { inner->hub_stop(((struct state *)st)->inner_state); }
static int64_t hub_send(void *st, void *conn, const struct iovec *iov, size_t iovcnt) {
    return inner->hub_send(((struct state *)st)->inner_state, conn, iov, iovcnt);
}
static void hub_set_receiving(void *st, void *conn, int enabled) {
    inner->hub_set_receiving(((struct state *)st)->inner_state, conn, enabled);
}
static void hub_close(void *st, void *conn) { inner->hub_close(((struct state *)st)->inner_state, conn); }
static void hub_cleanup(void *st) {
    struct state *s = st;
    inner->hub_cleanup(s->inner_state);
    rmdir(s->dir);
    free(s);
}
static int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    char dir[4096];
    sub_dir(params->runtime_dir, dir, sizeof dir);
    ipchub_client_params p = *params;
    p.runtime_dir = dir;
    return inner->client_connect(&p, conn, err, err_len);
}
static int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    return inner->client_send(conn, iov, iovcnt, timeout_ms);
}
static int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    return inner->client_recv(conn, buf, cap, timeout_ms);
}
static void client_close(void *conn) { inner->client_close(conn); }

#define TABLE_MEMBERS(abi, size)                                                                            \
    abi, size, TEST_PLUGIN_NAME, "0.0-test", "socket transport behind an unusual ABI table (test)", 0, 0, \
        hub_init, hub_start, hub_stop, hub_send, hub_set_receiving, hub_close, hub_cleanup, NULL,        \
        client_connect, client_send, client_recv, client_close

#if defined(TEST_VARIANT_OLD)
static const struct {
    struct plugin_table_1_0 table;
    void (*beyond[8])(void);
} s_layout = {
    {TABLE_MEMBERS(IPCHUB_MAKE_ABI_VERSION(1, 0), (uint32_t)sizeof(struct plugin_table_1_0))},
    {poison, poison, poison, poison, poison, poison, poison, poison},
};
#elif defined(TEST_VARIANT_NEW)
static const struct {
    ipchub_plugin table;
    void (*future_member_a)(void);
    void (*future_member_b)(void);
} s_layout = {
    {TABLE_MEMBERS(IPCHUB_MAKE_ABI_VERSION(IPCHUB_ABI_VERSION_MAJOR, IPCHUB_ABI_VERSION_MINOR + 1),
                   (uint32_t)(sizeof(ipchub_plugin) + 2 * sizeof(void (*)(void)))),
     NULL /* hub_poll (1.1): the socket transport has nothing to poll */},
    poison,
    poison,
};
#else
#error "set TEST_VARIANT_OLD or TEST_VARIANT_NEW"
#endif

IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    if (IPCHUB_ABI_MAJOR(host_abi_version) != IPCHUB_ABI_VERSION_MAJOR) return NULL;
    if (!inner) {
        inner_handle = dlopen(SOCKET_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        if (!inner_handle) {
            fprintf(stderr, "%s: cannot load %s: %s\n", TEST_PLUGIN_NAME, SOCKET_PLUGIN_PATH, dlerror());
            return NULL;
        }
        ipchub_plugin_entry_fn entry = (ipchub_plugin_entry_fn)dlsym(inner_handle, IPCHUB_PLUGIN_ENTRY_SYMBOL);
        inner = entry ? entry(host_abi_version) : NULL;
        if (!inner) return NULL;
    }
    return (const ipchub_plugin *)&s_layout.table;
}
