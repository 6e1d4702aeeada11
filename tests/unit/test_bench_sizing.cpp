// myipcbench's sizing rules (apps/bench): how long a run streams by default
// and how much it streams before timing starts.
#include "../../apps/bench/context.hpp"
#include "../../apps/bench/options.hpp"

#include <doctest/doctest.h>

using namespace bench;

TEST_CASE("bench sizing: the default stream is 1 GiB of payload, 1,000 to 1,000,000 messages") {
    CHECK(default_messages(1024) == 1000000);     // 1 GiB would be 1,048,576
    CHECK(default_messages(64) == 1000000);
    CHECK(default_messages(65536) == 16384);      // exactly 1 GiB
    CHECK(default_messages(16 << 20) == 1000);    // at least 1,000
}

TEST_CASE("bench sizing: the warm-up is about 32 MiB, at least 16 messages, never more than the stream") {
    CHECK(warmup_messages(1000000, 1024) == 32768);
    CHECK(warmup_messages(1000000, 64) == 100000); // capped
    CHECK(warmup_messages(1000000, 1 << 20) == 32);
    CHECK(warmup_messages(1000000, 16 << 20) == 16);
    CHECK(warmup_messages(200, 1024) == 200);      // tiny runs warm up with what they stream
    WarmupCounter w{10};
    w.received = 7;
    CHECK(w.missing() == 3);
    CHECK(w.extra() == 0);
    w.received = 12;
    CHECK(w.extra() == 2);
}
