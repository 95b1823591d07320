/* `socket` with the semantics of Moddable's lwIP socket on a device, for TCP clients:
 * - write(...) returns the free space of an 8192-byte send buffer (lwIP's TCP_SND_BUF);
 *   a write needing more throws "can't write all data" and sends nothing;
 * - callback(1) connected, (2, bytes) readable, (3, free) writable, (-1) peer closed,
 *   (-2) error (a refused or failed connect too);
 * - received bytes stay buffered until read, also outside the data callback
 *   (receive window XT_RX_WINDOW bytes: the host sends no more until the app read some);
 * - read() available bytes; read(null[, n]) skips; read(Number) one byte;
 *   read(String|ArrayBuffer[, limit]) where limit is a count or a terminator string.
 * The Node side opens the real TCP connection (127.0.0.1 only) and relays bytes. */
#include <string.h>
#include "host.h"

#define XT_MAX_SOCKETS 4		/* like a small lwIP MEMP_NUM_TCP_PCB */
#define XT_SEND_BUFFER 8192
#define XT_RX_WINDOW (4 * XT_FRAME_PAYLOAD)

typedef struct {
	txSlot object;			/* the Socket object, remembered while open */
	uint32_t id;
	uint8_t used;
	uint8_t connected;
	int32_t free;			/* send buffer space */
	uint32_t consumed;		/* bytes read since the last XT_CONSUMED */
	uint32_t start, end;		/* unread bytes are rx[start, end) */
	char remote[48];
	uint8_t rx[XT_RX_WINDOW];
} xtSocket;

static xtSocket *sockets[XT_MAX_SOCKETS];
static uint32_t next_id = 1;

int xt_socket_count(void)
{
	int i, count = 0;
	for (i = 0; i < XT_MAX_SOCKETS; i++)
		if (sockets[i])
			count++;
	return count;
}

static xtSocket *find_by_object(txMachine *the, txSlot *object)
{
	int i;
	if (object->kind != XS_REFERENCE_KIND)
		return NULL;
	for (i = 0; i < XT_MAX_SOCKETS; i++)
		if (sockets[i] && (sockets[i]->object.value.reference == object->value.reference))
			return sockets[i];
	return NULL;
}

static xtSocket *find_by_id(uint32_t id)
{
	int i;
	for (i = 0; i < XT_MAX_SOCKETS; i++)
		if (sockets[i] && (sockets[i]->id == id))
			return sockets[i];
	return NULL;
}

static void release(txMachine *the, xtSocket *s)
{
	int i;
	for (i = 0; i < XT_MAX_SOCKETS; i++)
		if (sockets[i] == s)
			sockets[i] = NULL;
	xsForget(s->object);
	c_free(s);
}

static xtSocket *open_socket(txMachine *the)
{
	xtSocket *s = find_by_object(the, &xsThis);
	if (!s)
		xsUnknownError("socket closed");
	return s;
}

/* host.socketOpen(socket, dictionary): called by the Socket constructor */
static void xs_socket_open(txMachine *the)
{
	char target[80];
	xtSocket *s;
	int slot, port = 0;
	xsVars(1);
	for (slot = 0; slot < XT_MAX_SOCKETS; slot++)
		if (!sockets[slot])
			break;
	if (slot == XT_MAX_SOCKETS)
		xsUnknownError("no socket available");		/* lwIP: out of PCBs */
	if (!xsIsInstanceOf(xsArg(1), xsObjectPrototype))
		xsTypeError("socket: dictionary required");
	if (xsHas(xsArg(1), xsID("listener")))
		xsUnknownError("socket: listeners are not supported by the Xtensa host");
	if (xsHas(xsArg(1), xsID("kind"))) {
		xsVar(0) = xsGet(xsArg(1), xsID("kind"));
		if (c_strcmp(xsToString(xsVar(0)), "TCP"))
			xsUnknownError("socket: only TCP client sockets are supported by the Xtensa host");
	}
	xsVar(0) = xsGet(xsArg(1), xsID("host"));
	if (xsTypeOf(xsVar(0)) == xsUndefinedType)
		xsVar(0) = xsGet(xsArg(1), xsID("address"));
	if (xsTypeOf(xsVar(0)) == xsUndefinedType)
		xsUnknownError("host required in dictionary");
	c_snprintf(target, sizeof(target), "%s", xsToString(xsVar(0)));
	if (xsHas(xsArg(1), xsID("port")))
		port = xsToInteger(xsGet(xsArg(1), xsID("port")));
	c_snprintf(target + c_strlen(target), sizeof(target) - c_strlen(target), ":%d", port);
	s = c_calloc(1, sizeof(xtSocket));
	if (!s)
		xsUnknownError("no memory for socket");
	s->object = xsArg(0);
	xsRemember(s->object);
	s->id = next_id++;
	s->used = 1;
	s->free = XT_SEND_BUFFER;
	sockets[slot] = s;
	xt_send(XT_OPEN, s->id, 0, target, c_strlen(target));
}

static void xs_socket_close(txMachine *the)
{
	xtSocket *s = find_by_object(the, &xsThis);
	if (!s)
		return;		/* lwIP: closing a closed socket is a no-op */
	xt_send(XT_CLOSE, s->id, 0, NULL, 0);
	release(the, s);
}

static void xs_socket_get(txMachine *the)
{
	xtSocket *s = find_by_object(the, &xsThis);
	if (s && (xsToInteger(xsArgc) > 0) && !c_strcmp(xsToString(xsArg(0)), "REMOTE_IP") && s->remote[0])
		xsResult = xsString(s->remote);
}

static int same(txMachine *the, txSlot *a, const char *name)
{
	txSlot *global;
	xsVar(0) = xsGet(xsGlobal, xsID(name));
	global = &xsVar(0);
	return (a->kind == XS_REFERENCE_KIND) && (global->kind == XS_REFERENCE_KIND) && (a->value.reference == global->value.reference);
}

static void consume(xtSocket *s, uint32_t count)
{
	s->start += count;
	s->consumed += count;
	if (s->start == s->end)
		s->start = s->end = 0;
}

static void xs_socket_read(txMachine *the)
{
	xtSocket *s = find_by_object(the, &xsThis);
	int argc = xsToInteger(xsArgc);
	uint32_t available, count;
	uint8_t *data;
	xsVars(1);
	if (!s)
		xsUnknownError("read on closed socket");
	available = s->end - s->start;
	if (argc == 0) {
		xsResult = xsInteger(available);
		return;
	}
	if (!available)
		return;		/* undefined */
	data = s->rx + s->start;
	count = available;
	if (argc > 1) {
		if (xsTypeOf(xsArg(1)) == xsStringType) {
			uint8_t terminator = (uint8_t)xsToString(xsArg(1))[0];
			if (terminator) {
				uint8_t *at = memchr(data, terminator, available);
				if (at)
					count = (uint32_t)(at - data) + 1;	/* terminator included */
			}
		}
		else {
			int n = xsToInteger(xsArg(1));
			if (n < 0)
				n = 0;
			if ((uint32_t)n < count)
				count = n;
		}
	}
	if (xsTypeOf(xsArg(0)) == xsNullType)
		xsResult = xsInteger(count);
	else if (same(the, &xsArg(0), "Number")) {
		xsResult = xsInteger(data[0]);
		count = 1;
	}
	else if (same(the, &xsArg(0), "String")) {
		xsResult = xsStringBuffer((char *)data, count);	/* data is C memory: nothing moves it */
	}
	else if (same(the, &xsArg(0), "ArrayBuffer"))
		xsResult = xsArrayBuffer(data, count);
	else
		xsUnknownError("unsupported output type");
	consume(s, count);
}

/* The bytes of one write() item: a string (UTF-8), a number (one byte) or a buffer. */
static uint32_t item_bytes(txMachine *the, txSlot *item, const uint8_t **bytes, uint8_t *scratch)
{
	void *data;
	xsUnsignedValue count;
	switch (xsTypeOf(*item)) {
	case xsStringType:
		*bytes = (const uint8_t *)xsToString(*item);
		return c_strlen((const char *)*bytes);
	case xsIntegerType:
	case xsNumberType:
		*scratch = (uint8_t)xsToInteger(*item);
		*bytes = scratch;
		return 1;
	case xsReferenceType:
		_xsmcGetBuffer(the, item, &data, &count, 0);
		*bytes = data;
		return count;
	default:
		xsUnknownError("unsupported type for write");
	}
	return 0;
}

static void xs_socket_write(txMachine *the)
{
	xtSocket *s = find_by_object(the, &xsThis);
	int argc = xsToInteger(xsArgc), i;
	uint32_t needed = 0;
	const uint8_t *bytes;
	uint8_t scratch;
	if (!s)
		xsUnknownError("write on closed socket");
	if (argc == 0) {
		xsResult = xsInteger(s->free);
		return;
	}
	for (i = 0; i < argc; i++)
		needed += item_bytes(the, &xsArg(i), &bytes, &scratch);
	if (needed > (uint32_t)s->free)
		xsUnknownError("can't write all data");
	if (!needed)
		return;
	s->free -= needed;
	xt_send_begin(XT_WRITE, s->id, 0, needed);
	for (i = 0; i < argc; i++) {
		uint32_t n = item_bytes(the, &xsArg(i), &bytes, &scratch);
		xt_send_more(bytes, n);
	}
}

/* Call socket.callback(message[, value]) the way the device's event loop does. */
static void deliver(txMachine *the, xtSocket *s, int message, int value, int hasValue)
{
	xsBeginHost(the);
	{
		xsVars(1);
		xsVar(0) = s->object;
		if (hasValue)
			xsCall2(xsVar(0), xsID("callback"), xsInteger(message), xsInteger(value));
		else
			xsCall1(xsVar(0), xsID("callback"), xsInteger(message));
	}
	xsEndHost(the);
	xt_run_jobs(the);
}

void xt_socket_frame(txMachine *the, xtFrame *frame)
{
	xtSocket *s = find_by_id(frame->id);
	if (!s)
		return;		/* closed by the app meanwhile */
	switch (frame->type) {
	case XT_CONNECTED:
		s->connected = 1;
		c_memcpy(s->remote, frame->payload, frame->length < sizeof(s->remote) - 1 ? frame->length : sizeof(s->remote) - 1);
		deliver(the, s, 1, 0, 0);
		break;
	case XT_DATA:
		if (frame->length > XT_RX_WINDOW - s->end) {
			c_memmove(s->rx, s->rx + s->start, s->end - s->start);
			s->end -= s->start;
			s->start = 0;
		}
		if (frame->length > XT_RX_WINDOW - s->end)
			xt_exit(3);		/* the host broke the window: a bug in host.mjs */
		c_memcpy(s->rx + s->end, frame->payload, frame->length);
		s->end += frame->length;
		deliver(the, s, 2, s->end - s->start, 1);
		break;
	case XT_SENT:
		s->free += frame->arg;
		if (s->free > XT_SEND_BUFFER)
			s->free = XT_SEND_BUFFER;
		deliver(the, s, 3, s->free, 1);
		break;
	case XT_PEER_CLOSED:
	case XT_ERROR: {
		/* the host released its side; the record goes, later close() is a no-op */
		txSlot object = s->object;
		int message = (frame->type == XT_ERROR) ? -2 : -1;
		xsBeginHost(the);
		{
			xsVars(1);
			xsVar(0) = object;
			release(the, s);
			xsCall1(xsVar(0), xsID("callback"), xsInteger(message));
		}
		xsEndHost(the);
		xt_run_jobs(the);
		break;
	}
	}
}

/* Reopen the receive window by what the app read during the last turn. */
void xt_socket_flush(txMachine *the)
{
	int i;
	(void)the;
	for (i = 0; i < XT_MAX_SOCKETS; i++) {
		xtSocket *s = sockets[i];
		if (s && s->consumed) {
			xt_send(XT_CONSUMED, s->id, s->consumed, NULL, 0);
			s->consumed = 0;
		}
	}
}

static const xtHostFunction functions[] = {
	{"socketOpen", xs_socket_open, 2},
	{"socketRead", xs_socket_read, 2},
	{"socketWrite", xs_socket_write, 1},
	{"socketClose", xs_socket_close, 0},
	{"socketGet", xs_socket_get, 1},
};

void xt_socket_install(txMachine *the, txSlot *host)
{
	xt_host_functions(the, host, functions, XT_COUNT(functions));
}
