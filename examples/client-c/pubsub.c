/*
 * pubsub_c: the ipchub C client API end to end.
 *
 *   pubsub_c [SUB_BACKEND [PUB_BACKEND [CHANNEL [COUNT]]]]
 *
 * Subscribes to CHANNEL over SUB_BACKEND (default socket), publishes COUNT
 * messages (default 5) to it on a second connection over PUB_BACKEND (default:
 * the same), receives them all on the first connection and prints each as
 * "[channel] payload". Instance, runtime dir, plugins.json and plugin dir come
 * from the usual IPCHUB_* environment variables. Exit status: 0 when every
 * message arrived intact and in order, 1 otherwise.
 */
#include <ipchub/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ipchub_client *open_client(const char *backend, const char *name) {
    ipchub_client_options options = IPCHUB_CLIENT_OPTIONS_INIT;
    options.backend = backend;
    options.name = name;
    ipchub_client *client = NULL;
    char err[512];
    int rc = ipchub_client_connect(&options, &client, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "pubsub_c: connect over %s: %s (%s)\n", backend, err, strerror(-rc));
        return NULL;
    }
    return client;
}

int main(int argc, char **argv) {
    const char *sub_backend = argc > 1 ? argv[1] : "socket";
    const char *pub_backend = argc > 2 ? argv[2] : sub_backend;
    const char *channel = argc > 3 ? argv[3] : "c-demo";
    int count = argc > 4 ? atoi(argv[4]) : 5;
    char err[512];
    int status = 1;

    ipchub_client *sub = open_client(sub_backend, "pubsub_c-sub");
    ipchub_client *pub = sub ? open_client(pub_backend, "pubsub_c-pub") : NULL;
    if (!sub || !pub) goto out;

    if (ipchub_client_subscribe(sub, channel, err, sizeof err) < 0) {
        fprintf(stderr, "pubsub_c: subscribe: %s\n", err);
        goto out;
    }
    for (int i = 0; i < count; ++i) {
        char text[64];
        int len = snprintf(text, sizeof text, "message %d from C", i);
        int64_t reached = ipchub_client_publish(pub, channel, text, (size_t)len, err, sizeof err);
        if (reached < 1) {
            fprintf(stderr, "pubsub_c: publish %d: %s\n", i, reached < 0 ? err : "reached no subscriber");
            goto out;
        }
    }
    for (int i = 0; i < count; ++i) {
        ipchub_message *m = NULL;
        int rc = ipchub_client_receive(sub, 5000, &m, err, sizeof err);
        if (rc <= 0) {
            fprintf(stderr, "pubsub_c: receive %d: %s\n", i, rc < 0 ? err : "timed out");
            goto out;
        }
        char expected[64];
        snprintf(expected, sizeof expected, "message %d from C", i);
        int ok = strcmp(m->channel, channel) == 0 && m->payload_len == strlen(expected) &&
                 memcmp(m->payload, expected, m->payload_len) == 0;
        printf("[%s] %.*s\n", m->channel, (int)m->payload_len, (const char *)m->payload);
        ipchub_message_free(m);
        if (!ok) {
            fprintf(stderr, "pubsub_c: message %d is not \"%s\"\n", i, expected);
            goto out;
        }
    }
    char stats[4096];
    int64_t n = ipchub_client_stats(pub, stats, sizeof stats, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "pubsub_c: stats: %s\n", err);
        goto out;
    }
    printf("pubsub_c: %d messages %s -> %s OK (hub stats: %lld bytes of JSON)\n", count, pub_backend, sub_backend,
           (long long)n);
    status = 0;
out:
    ipchub_client_close(pub);
    ipchub_client_close(sub);
    return status;
}
