/* Framing over the semihosting channel (see channel.h). */
#include <string.h>
#include "channel.h"
#include "semihost.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void write_all(const void *bytes, uint32_t length)
{
	const uint8_t *p = bytes;
	while (length) {
		int n = xt_write(XT_CHANNEL_FD, p, length);
		if (n <= 0)
			xt_exit(3);		/* the host is gone */
		p += n;
		length -= n;
	}
}

static void read_all(void *bytes, uint32_t length)
{
	uint8_t *p = bytes;
	while (length) {
		int n = xt_read(XT_CHANNEL_FD, p, length);
		if (n <= 0)
			xt_exit(3);
		p += n;
		length -= n;
	}
}

void xt_send_begin(uint32_t type, uint32_t id, uint32_t arg, uint32_t length)
{
	uint8_t header[XT_FRAME_HEADER];
	put32(header, type);
	put32(header + 4, id);
	put32(header + 8, arg);
	put32(header + 12, 0);
	put32(header + 16, length);
	write_all(header, sizeof(header));
}

void xt_send_more(const void *bytes, uint32_t length)
{
	if (length)
		write_all(bytes, length);
}

void xt_send(uint32_t type, uint32_t id, uint32_t arg, const void *payload, uint32_t length)
{
	xt_send_begin(type, id, arg, length);
	xt_send_more(payload, length);
}

void xt_receive(xtFrame *frame)
{
	uint8_t header[XT_FRAME_HEADER];
	read_all(header, sizeof(header));
	frame->type = get32(header);
	frame->id = get32(header + 4);
	frame->arg = get32(header + 8);
	frame->now = get32(header + 12);
	frame->length = get32(header + 16);
	if (frame->length > XT_FRAME_PAYLOAD)
		xt_exit(3);		/* protocol error: the host never sends more */
	read_all(frame->payload, frame->length);
}
