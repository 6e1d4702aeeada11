/*
 * A plugin with a thread of its own that hands work to the hub through
 * ipchub_host.post, the one host call any thread may make. For
 * unit/test_host_bridge.cpp, which runs it under the real event loop and
 * host bridge and reads what happened from the plugin's log lines:
 *
 *   "post <n> ran on thread <tid>"  a posted callback ran (on thread tid)
 *   "post <n> ran after hub_cleanup" a callback ran although the plugin was
 *                                    gone: the contract in plugin.h broken
 *   (on stderr) "post <n> failed"   host->post refused: <n> never runs
 *
 * The thread posts 1, 2, 3, ... with a short pause between, until hub_stop
 * asks it to end; its last act is one more post, so a callback is still
 * queued when hub_stop returns. The host must run it before hub_cleanup
 * returns or never.
 *
 * One instance at a time (static state): the callbacks need something that
 * outlives hub_cleanup to report a late run with.
 */
#define _GNU_SOURCE
#include <ipchub/plugin.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const ipchub_host *s_host;
static pthread_t s_thread;
static atomic_int s_stop;
static atomic_int s_cleaned_up;
static int s_state; /* the plugin keeps everything static; any non-NULL pointer will do */

static void on_posted(void *user) {
    unsigned long long n = (unsigned long long)(uintptr_t)user;
    char line[128];
    if (atomic_load(&s_cleaned_up)) {
        snprintf(line, sizeof line, "post %llu ran after hub_cleanup", n);
        s_host->log(s_host, IPCHUB_LOG_ERROR, line);
    } else {
        snprintf(line, sizeof line, "post %llu ran on thread %lld", n, (long long)syscall(SYS_gettid));
        s_host->log(s_host, IPCHUB_LOG_INFO, line);
    }
}

static void post_one(uintptr_t n) {
    int rc = s_host->post(s_host, on_posted, (void *)n);
    if (rc < 0) fprintf(stderr, "post %llu failed: %s\n", (unsigned long long)n, strerror(-rc));
}

static void *poster(void *arg) {
    (void)arg;
    uintptr_t n = 0;
    struct timespec pause = {0, 200 * 1000};
    while (!atomic_load(&s_stop)) {
        post_one(++n);
        nanosleep(&pause, NULL);
    }
    post_one(++n);
    return NULL;
}

static int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err,
                    size_t err_len) {
    (void)params;
    (void)err;
    (void)err_len;
    s_host = host;
    atomic_store(&s_stop, 0);
    atomic_store(&s_cleaned_up, 0);
    *state = &s_state;
    return 0;
}
static int hub_start(void *state, char *err, size_t err_len) {
    (void)state;
    int rc = pthread_create(&s_thread, NULL, poster, NULL);
    if (rc != 0) {
        snprintf(err, err_len, "cannot start the posting thread: %s", strerror(rc));
        return -rc;
    }
    return 0;
}
static void hub_stop(void *state) {
    (void)state;
    atomic_store(&s_stop, 1);
    pthread_join(s_thread, NULL);
}
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
static void hub_cleanup(void *state) {
    (void)state;
    atomic_store(&s_cleaned_up, 1);
}
static int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    (void)params;
    (void)conn;
    snprintf(err, err_len, "the post test plugin has no client half");
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

static const ipchub_plugin s_table = {
    IPCHUB_ABI_VERSION,
    (uint32_t)sizeof(ipchub_plugin),
    TEST_PLUGIN_NAME,
    "0.0-test",
    "posts from a thread of its own",
    0,
    0,
    hub_init,
    hub_start,
    hub_stop,
    hub_send,
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

IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    (void)host_abi_version;
    return &s_table;
}
