/*
 * ipchub wire protocol: what flows between a client and the hub, over any
 * transport. Transports carry it as an opaque byte stream of frames.
 *
 * A frame is a fixed 24-byte little-endian header, then `channel_len` bytes
 * of channel name, then `payload_len` bytes of payload (any bytes, NULs
 * included). See docs/protocol.md for the conversation (HELLO first, then
 * SUBSCRIBE / PUBLISH / ...).
 */
#ifndef IPCHUB_PROTOCOL_H
#define IPCHUB_PROTOCOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IPCHUB_PROTOCOL_MAGIC 0x4849u /* "IH" on the wire: 0x49 0x48 */
#define IPCHUB_PROTOCOL_VERSION 1u
#define IPCHUB_FRAME_HEADER_SIZE 24u
#define IPCHUB_CHANNEL_MAX 64u
#define IPCHUB_DEFAULT_MAX_MESSAGE (1024u * 1024u) /* payload bytes */

/* Frame types. */
enum ipchub_frame_type {
    IPCHUB_HELLO = 1,       /* client -> hub: payload = u32 pid, then a client name;
                               hub -> client: payload = u32 max payload size, then the hub's name */
    IPCHUB_SUBSCRIBE = 2,   /* client -> hub: channel; payload empty or a JSON object of subscription
                               options (docs/protocol.md: "replay", a stricter "policy" and limits) */
    IPCHUB_UNSUBSCRIBE = 3, /* client -> hub: channel */
    IPCHUB_PUBLISH = 4,     /* client -> hub: channel + payload */
    IPCHUB_DATA = 5,        /* hub -> subscriber: channel + payload (id = publisher's id) */
    IPCHUB_ACK = 6,         /* hub -> client: id = acknowledged frame's id, payload = u32 count */
    IPCHUB_ERROR = 7,       /* hub -> client: id = offending frame's id, payload = u32 code + text */
    IPCHUB_STATS = 8,       /* client -> hub: request (channel empty: the hub; a channel: that channel);
                               hub -> client: payload = JSON text */
    IPCHUB_GAP = 9          /* hub -> subscriber: channel; payload = u64 messages, u64 payload bytes the
                               slow-consumer policy dropped for this subscriber on this channel since the
                               last GAP; sent before the next DATA of that channel it gets */
};

/* Frame flags. */
enum {
    /* On PUBLISH, SUBSCRIBE, UNSUBSCRIBE: answer with an ACK. A PUBLISH's ACK
     * carries how many subscribers the message was delivered to. Without the
     * flag a publisher streams without waiting. */
    IPCHUB_FLAG_ACK = 1u << 0,
    /* On DATA: a retained message replayed on SUBSCRIBE ("replay"), not a
     * live one. Replayed messages come after the SUBSCRIBE's ACK and before
     * any live message of that channel. */
    IPCHUB_FLAG_REPLAY = 1u << 1
};

/* ERROR codes (first u32 of an ERROR payload). */
enum ipchub_error_code {
    IPCHUB_ERR_MALFORMED = 1,     /* bad magic, version, type or lengths: connection closed */
    IPCHUB_ERR_TOO_LARGE = 2,     /* payload above the hub's limit: connection closed */
    IPCHUB_ERR_BAD_CHANNEL = 3,   /* channel name invalid: frame refused */
    IPCHUB_ERR_UNSUPPORTED = 4,   /* frame type not valid in this direction: frame refused */
    IPCHUB_ERR_SHUTTING_DOWN = 5, /* hub stops: connection closed */
    IPCHUB_ERR_LIMIT = 6,         /* a hub limit (named in the text) refuses this frame: connection stays */
    IPCHUB_ERR_EVICTED = 7,       /* a hub limit (named in the text) closes this connection */
    IPCHUB_ERR_SLOW_CONSUMER = 8, /* the channel's slow-consumer policy closes this subscriber: the text
                                     names the channel and how far behind it was; connection closed */
    IPCHUB_ERR_BAD_REQUEST = 9    /* a frame's payload is not what its type expects (e.g. unknown
                                     SUBSCRIBE option, named in the text): frame refused, connection stays */
};

/* Header layout, byte offsets (all fields little-endian):
 *   0 u16 magic   2 u8 version   3 u8 type   4 u16 flags   6 u16 channel_len
 *   8 u32 payload_len   12 u32 reserved (0)   16 u64 id */

#ifdef __cplusplus
}
#endif

#endif /* IPCHUB_PROTOCOL_H */
