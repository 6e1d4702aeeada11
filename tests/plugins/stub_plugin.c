/*
 * Deliberately broken test plugins for the registry tests, one .so per
 * variant (TEST_VARIANT_*, set by CMakeLists.txt). Plain C: proves that
 * ipchub/plugin.h is valid C. The functions are stubs: these plugins exist to
 * be refused, except "initfail", which loads fine and fails in hub_init.
 */
#include <ipchub/plugin.h>

#include <errno.h>
#include <stdio.h>


static int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err,
                    size_t err_len) {
    (void)host;
    (void)params;
#ifdef TEST_VARIANT_INITFAIL
    (void)state;
    snprintf(err, err_len, "test plugin refuses to start on purpose");
    return -EADDRNOTAVAIL;
#else
    (void)err;
    (void)err_len;
    static int s_state; /* stubs keep no state; any non-NULL pointer will do */
    *state = &s_state;
    return 0;
#endif
}
static int hub_start(void *state, char *err, size_t err_len) {
    (void)state;
    (void)err;
    (void)err_len;
    return 0;
}
static void hub_stop(void *state) { (void)state; }
#if defined(__GNUC__)
__attribute__((unused)) /* left out of the table by the "missing" variant */
#endif
static int64_t hub_send(void *state, void *conn, const struct iovec *iov, size_t iovcnt) {
    (void)state;
    (void)conn;
    (void)iov;
    (void)iovcnt;
    return -EPIPE;
}
static void hub_set_receiving(void *state, void *conn, int enabled) {
    (void)state;
    (void)conn;
    (void)enabled;
}
static void hub_close(void *state, void *conn) {
    (void)state;
    (void)conn;
}
static void hub_cleanup(void *state) { (void)state; }
static int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    (void)conn;
    snprintf(err, err_len, "no hub is running for instance '%s' (test stub)", params->instance);
    return -ECONNREFUSED;
}
static int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    (void)conn;
    (void)iov;
    (void)iovcnt;
    (void)timeout_ms;
    return -EPIPE;
}
static int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    (void)conn;
    (void)buf;
    (void)cap;
    (void)timeout_ms;
    return -EPIPE;
}
static void client_close(void *conn) { (void)conn; }

#if defined(TEST_VARIANT_MAJOR2)
#define TABLE_ABI IPCHUB_MAKE_ABI_VERSION(2, 0)
#else
#define TABLE_ABI IPCHUB_ABI_VERSION
#endif

#if defined(TEST_VARIANT_TINY)
#define TABLE_SIZE 16u /* not even the name fits */
#else
#define TABLE_SIZE ((uint32_t)sizeof(ipchub_plugin))
#endif

#if defined(TEST_VARIANT_NAMED)
#define TABLE_NAME "impostor"
#else
#define TABLE_NAME TEST_PLUGIN_NAME
#endif

#if defined(TEST_VARIANT_MISSING)
#define TABLE_HUB_SEND NULL /* a required member left out */
#else
#define TABLE_HUB_SEND hub_send
#endif

static const ipchub_plugin s_table = {
    TABLE_ABI,
    TABLE_SIZE,
    TABLE_NAME,
    "0.0-test",
    "deliberately broken test plugin",
    0,
    0,
    hub_init,
    hub_start,
    hub_stop,
    TABLE_HUB_SEND,
    hub_set_receiving,
    hub_close,
    hub_cleanup,
    NULL, /* sweep */
    client_connect,
    client_send,
    client_recv,
    client_close,
    NULL, /* hub_poll */
};

#if defined(TEST_VARIANT_NOENTRY)
/* Exports something, but not IPCHUB_PLUGIN_ENTRY_SYMBOL. */
IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry_misspelt(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &s_table;
}
#else
IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    (void)host_abi_version;
#if defined(TEST_VARIANT_NULLTABLE)
    (void)&s_table;
    return NULL;
#else
    return &s_table;
#endif
}
#endif
