/* The byte channel to the Node side: QEMU passes semihosting reads and writes on fd 3
 * to the socketpair the parent gave it. Frames are a 20-byte header of little-endian
 * uint32 {type, id, arg, now, length} and `length` payload bytes. Node keeps the clock:
 * every frame it sends carries `now`, milliseconds since the guest started. */
#ifndef XT_CHANNEL_H
#define XT_CHANNEL_H

#include <stdint.h>

#define XT_CHANNEL_FD 3
#define XT_FRAME_HEADER 20
/* Largest payload either side sends in one frame (a TCP segment's worth, as lwIP's pbufs). */
#define XT_FRAME_PAYLOAD 1460

/* guest -> host */
enum {
	XT_OPEN = 1,		/* payload "host:port" */
	XT_WRITE = 2,		/* payload bytes */
	XT_CLOSE = 3,
	XT_WAIT = 4,		/* arg: ms until the next timer, 0xFFFFFFFF for none */
	XT_CONSUMED = 5,	/* arg: bytes the app read (reopens the receive window) */
	XT_STATS = 6,		/* payload: "key=value ..." text */
};

/* host -> guest */
enum {
	XT_CONNECTED = 1,	/* payload: remote address */
	XT_DATA = 2,		/* payload bytes, at most XT_FRAME_PAYLOAD */
	XT_SENT = 3,		/* arg: bytes the host OS accepted */
	XT_PEER_CLOSED = 4,
	XT_ERROR = 5,		/* payload: message */
	XT_TICK = 6,		/* nothing but `now` */
};

typedef struct {
	uint32_t type, id, arg, now, length;
	uint8_t payload[XT_FRAME_PAYLOAD];
} xtFrame;

void xt_send(uint32_t type, uint32_t id, uint32_t arg, const void *payload, uint32_t length);
/* Send a frame whose payload is gathered from several pieces. */
void xt_send_begin(uint32_t type, uint32_t id, uint32_t arg, uint32_t length);
void xt_send_more(const void *bytes, uint32_t length);
/* Read one frame (blocking); exits the guest if the host went away. */
void xt_receive(xtFrame *frame);

#endif
