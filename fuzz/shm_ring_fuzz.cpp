// libFuzzer harness: the hub's reader of a client's shm ring (the real
// drain() of plugins/shm/hub_conn.cpp over a Ring in ordinary memory) fed
// shared-memory contents the client controls: the header's indices and the
// data, changed between and *during* the hub's reads (from inside
// conn_received, as a client racing the hub would).
//
// Checks what the hub relies on: it never reads outside the data area
// (ASan: the area is its own heap block), every drain returns (libFuzzer's
// -timeout catches a hang; the number of deliveries per drain is bounded by
// its budget), it never delivers more bytes than the producer could have
// written, and an impossible ring is reported: the client is closed with
// EPROTO exactly once and never touched again.
//
// Input: byte 0 picks the ring size (4096 << 0..3); then a sequence of
// operations, each one opcode byte and its arguments (missing bytes read as 0).
#include "hub.hpp"
#include "hub_conn.hpp"
#include "ring.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace shm = ipchub::shm;

namespace {

struct Input {
    const uint8_t *p;
    size_t n;
    bool empty() const { return n == 0; }
    uint8_t byte() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    uint64_t word(int bytes) {
        uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= uint64_t(byte()) << (8 * i);
        return v;
    }
};

struct Harness {
    Input in;
    uint64_t capacity = 4096;
    std::unique_ptr<shm::RingHeader> header = std::make_unique<shm::RingHeader>();
    std::vector<uint8_t> data; // exactly the ring: one byte past it is a heap overflow
    shm::Ring producer;        // the client's view, for well-formed writes
    ipchub_host host{};
    shm::Hub hub;
    shm::Conn *conn = nullptr; // owned by hub.conns until closed
    int closed = 0;
    int closed_reason = 0;
    uint64_t delivered = 0;     // bytes handed to conn_received
    uint64_t max_written = 0;   // upper bound: bytes the ring could ever have offered
    size_t deliveries_this_drain = 0;
    int racing = 0;             // operations still to apply from inside conn_received
    bool draining = false;      // the hub never drains from inside its own drain

    explicit Harness(Input input) : in(input) {
        capacity = uint64_t(4096) << (in.byte() % 4);
        data.assign(capacity, 0);
        if (shm::init_ring_header(header.get(), capacity, false) != 0) std::abort();
        producer = shm::Ring(header.get(), data.data(), capacity);
        host.abi_version = IPCHUB_ABI_VERSION;
        host.struct_size = sizeof host;
        host.ctx = this;
        host.log = [](const ipchub_host *, int, const char *) {};
        host.unwatch_fd = [](const ipchub_host *, int) { return 0; };
        host.conn_received = [](const ipchub_host *h, void *, const void *bytes, size_t len) {
            auto *self = static_cast<Harness *>(h->ctx);
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < len; ++i) sink = sink ^ static_cast<const uint8_t *>(bytes)[i]; // touch every byte
            self->delivered += len;
            if (++self->deliveries_this_drain > shm::kDrainChunk + 2) std::abort(); // unbounded drain
            if (self->racing > 0) {
                --self->racing;
                self->step(); // the client changes memory while the hub reads
            }
        };
        host.conn_closed = [](const ipchub_host *h, void *, int reason) {
            auto *self = static_cast<Harness *>(h->ctx);
            ++self->closed;
            self->closed_reason = reason;
        };
        hub.host = &host;
        hub.conns.set_host(&host);
        conn = new shm::Conn;
        conn->hub = &hub;
        conn->host_conn = this; // opened: the host knows it
        conn->seg.to_hub = shm::Ring(header.get(), data.data(), capacity);
        hub.conns.add(conn);
    }
    ~Harness() {
        sem_destroy(&header->items);
        sem_destroy(&header->spaces);
    }

    bool alive() const { return closed == 0; }

    // One client action; false when the input is used up.
    bool step() {
        if (in.empty()) return false;
        switch (in.byte() % 8) {
        case 0: { // a well-formed record of n bytes (if it fits)
            size_t n = size_t(in.word(2)) % capacity + 1;
            std::vector<uint8_t> bytes(n, in.byte());
            iovec iov{bytes.data(), n};
            int64_t w = producer.write_stream(&iov, 1);
            if (w > 0) max_written += shm::kRecordHeader + uint64_t(w);
            break;
        }
        case 1: { // any tail
            uint64_t t = in.word(8);
            header->tail.store(t);
            max_written += capacity; // a bogus tail may "offer" up to one ring more
            break;
        }
        case 2: // tail nudged by a small amount either way
            header->tail.store(header->tail.load() + uint64_t(int64_t(int8_t(in.byte()))));
            max_written += capacity;
            break;
        case 3: // the hub's own index rewound or moved (the hub must not care)
            header->head.store(header->head.load() - uint64_t(in.word(2)));
            break;
        case 4: { // any bytes anywhere in the data area
            size_t at = size_t(in.word(4)) % capacity;
            size_t n = in.byte() % 16;
            for (size_t i = 0; i < n && at + i < capacity; ++i) data[at + i] = in.byte();
            break;
        }
        case 5: // the wake-up flags and the closed word
            header->consumer_waiting.store(in.byte());
            header->producer_waiting.store(in.byte());
            break;
        case 6: // the next few actions happen inside the hub's next reads
            racing = in.byte() % 4;
            break;
        case 7: // the hub drains (a doorbell, a hang-up drain or a spin turn)
            if (!draining) drain(size_t(in.word(3)) + 1);
            break;
        }
        return true;
    }

    void drain(size_t budget) {
        if (!alive()) return;
        deliveries_this_drain = 0;
        bool more = false;
        uint64_t before = delivered;
        draining = true;
        bool kept = shm::drain(conn, budget, &more);
        draining = false;
        if (delivered - before > budget) std::abort(); // over its budget
        if (!kept) {
            if (closed != 1 || closed_reason != EPROTO) std::abort(); // corruption is reported, once
            conn = nullptr;
        } else if (!alive()) {
            std::abort(); // closed without saying so
        }
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Harness h(Input{data, size});
    while (h.step()) {
    }
    h.drain(SIZE_MAX / 2); // whatever is left, as the hang-up drain would
    if (h.delivered > h.max_written) std::abort(); // bytes out of nowhere
    if (h.closed > 1) std::abort();
    return 0;
}
