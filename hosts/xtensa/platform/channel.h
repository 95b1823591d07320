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

/* Whole reads and writes on a semihosting fd; exit the guest if the host went away. */
void xt_write_all(int fd, const void *bytes, uint32_t length);
void xt_read_all(int fd, void *bytes, uint32_t length);
void xt_put32(uint8_t *p, uint32_t v);
uint32_t xt_get32(const uint8_t *p);

/* The storage channel (fd 4, a second socketpair): the `file` module's requests, answered
 * one at a time, so no socket frame ever arrives in the middle of a file operation.
 * Request: 20-byte header {op, handle, a, b, length} and `length` payload bytes.
 * Reply: 12-byte header {status (int32), value, length} and `length` payload bytes.
 * The Node side (storage.mjs) owns the files and refuses paths outside the storage dir. */
#define XT_STORAGE_FD 4
enum {
	XT_FILE_OPEN = 1,	/* a: write; payload path -> status handle */
	XT_FILE_CLOSE = 2,
	XT_FILE_SIZE = 3,	/* -> value size */
	XT_FILE_READ = 4,	/* a: position, b: count -> payload bytes */
	XT_FILE_WRITE = 5,	/* a: position; payload bytes, written in one call once all arrived */
	XT_FILE_DELETE = 6,	/* payload path -> status 1 or 0 */
	XT_FILE_EXISTS = 7,	/* payload path -> status 1 or 0 */
	XT_FILE_RENAME = 8,	/* payload from NUL to -> status 1 or 0; outside: value 0 from, 1 to */
	XT_DIR_CREATE = 9,	/* payload path */
	XT_DIR_DELETE = 10,	/* payload path */
	XT_DIR_OPEN = 11,	/* payload path -> status handle */
	XT_DIR_NEXT = 12,	/* -> status 0 end, 1 directory, 2 file (value length); payload name */
	XT_DIR_CLOSE = 13,
};
/* Negative statuses */
enum {
	XT_FILE_FAILED = -1,	/* not found, or the operation failed */
	XT_FILE_OUTSIDE = -2,	/* the path is outside the storage directory */
};

#endif
