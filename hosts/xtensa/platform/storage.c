/* The storage channel's requests (channel.h), shared by file.c and filedir.c: one request
 * at a time, the reply read whole before the next, so a collection running a File's
 * destructor (which closes it) never falls in the middle of another request. */
#include "host.h"

void xt_storage_begin(uint32_t op, uint32_t handle, uint32_t a, uint32_t b, uint32_t length)
{
	uint8_t header[20];
	xt_put32(header, op);
	xt_put32(header + 4, handle);
	xt_put32(header + 8, a);
	xt_put32(header + 12, b);
	xt_put32(header + 16, length);
	xt_write_all(XT_STORAGE_FD, header, sizeof(header));
}

void xt_storage_reply(xtReply *reply)
{
	uint8_t header[12];
	xt_read_all(XT_STORAGE_FD, header, sizeof(header));
	reply->status = (int32_t)xt_get32(header);
	reply->value = xt_get32(header + 4);
	reply->length = xt_get32(header + 8);
}

/* Read the reply's payload: `length` bytes into `into`, the rest discarded. */
void xt_storage_payload(xtReply *reply, void *into, uint32_t length)
{
	uint8_t scratch[64];
	if (length > reply->length)
		length = reply->length;
	xt_read_all(XT_STORAGE_FD, into, length);
	reply->length -= length;
	while (reply->length) {
		uint32_t n = reply->length < sizeof(scratch) ? reply->length : sizeof(scratch);
		xt_read_all(XT_STORAGE_FD, scratch, n);
		reply->length -= n;
	}
}

/* A request with no payload, its reply's payload discarded. */
void xt_storage_simple(uint32_t op, uint32_t handle, uint32_t a, uint32_t b, xtReply *reply)
{
	xt_storage_begin(op, handle, a, b, 0);
	xt_storage_reply(reply);
	xt_storage_payload(reply, NULL, 0);
}

/* A request whose payload is the string in `path` (converted in place, so it stays rooted);
 * a path outside the storage directory throws. */
void xt_storage_path(txMachine *the, uint32_t op, uint32_t handle, uint32_t a, txSlot *path, xtReply *reply)
{
	uint32_t length;
	fxToString(the, path);		/* in place: the string stays rooted in the caller's slot */
	length = c_strlen(path->value.string);
	xt_storage_begin(op, handle, a, 0, length);
	xt_write_all(XT_STORAGE_FD, path->value.string, length);
	xt_storage_reply(reply);
	xt_storage_payload(reply, NULL, 0);
	if (reply->status == XT_FILE_OUTSIDE)
		xsUnknownError("%s: outside the storage directory", path->value.string);
}
