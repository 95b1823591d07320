/* Framing over the semihosting channel (see channel.h). */
#include <string.h>
#include "channel.h"
#include "semihost.h"

void xt_put32(uint8_t *p, uint32_t v)
{
	p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

uint32_t xt_get32(const uint8_t *p)
{
	return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24);
}

void xt_write_all(int fd, const void *bytes, uint32_t length)
{
	const uint8_t *p = bytes;
	while (length) {
		int n = xt_write(fd, p, length);
		if (n <= 0)
			xt_exit(3);		/* the host is gone */
		p += n;
		length -= n;
	}
}

void xt_read_all(int fd, void *bytes, uint32_t length)
{
	uint8_t *p = bytes;
	while (length) {
		int n = xt_read(fd, p, length);
		if (n <= 0)
			xt_exit(3);
		p += n;
		length -= n;
	}
}

void xt_send_begin(uint32_t type, uint32_t id, uint32_t arg, uint32_t length)
{
	uint8_t header[XT_FRAME_HEADER];
	xt_put32(header, type);
	xt_put32(header + 4, id);
	xt_put32(header + 8, arg);
	xt_put32(header + 12, 0);
	xt_put32(header + 16, length);
	xt_write_all(XT_CHANNEL_FD, header, sizeof(header));
}

void xt_send_more(const void *bytes, uint32_t length)
{
	if (length)
		xt_write_all(XT_CHANNEL_FD, bytes, length);
}

void xt_send(uint32_t type, uint32_t id, uint32_t arg, const void *payload, uint32_t length)
{
	xt_send_begin(type, id, arg, length);
	xt_send_more(payload, length);
}

void xt_receive(xtFrame *frame)
{
	uint8_t header[XT_FRAME_HEADER];
	xt_read_all(XT_CHANNEL_FD, header, sizeof(header));
	frame->type = xt_get32(header);
	frame->id = xt_get32(header + 4);
	frame->arg = xt_get32(header + 8);
	frame->now = xt_get32(header + 12);
	frame->length = xt_get32(header + 16);
	if (frame->length > XT_FRAME_PAYLOAD)
		xt_exit(3);		/* protocol error: the host never sends more */
	xt_read_all(XT_CHANNEL_FD, frame->payload, frame->length);
}
