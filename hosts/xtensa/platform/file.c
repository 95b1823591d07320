/* `file`'s File class with the semantics of the Moddable SDK's Linux simulator
 * (modules/files/file/lin): new File(path, write), read, write, close, length, position,
 * File.delete, File.exists, File.rename. The files belong to the Node side (storage.mjs):
 * each operation is a request on the storage channel (channel.h), so a write reaches the
 * disk in one call once all its bytes arrived, and paths outside the run's storage
 * directory (mc/config file.root) are refused there. */
#include "host.h"

typedef struct {
	uint32_t handle;
	int32_t position;	/* kept here, as a FILE keeps it: position costs no request */
} xtFile;

static void release(xtFile *file)
{
	xtReply reply;
	xt_storage_simple(XT_FILE_CLOSE, file->handle, 0, 0, &reply);
	c_free(file);
}

/* The garbage collector's: a File never closed is closed when collected, as lin's fclose. */
static void xs_file_destructor(void *data)
{
	if (data)
		release(data);
}

static xtFile *get_file(txMachine *the)
{
	xtFile *file = xsGetHostData(xsThis);
	if (!file)
		xsUnknownError("closed");
	return file;
}

/* new File(path, write): write opens read/write, creating a missing file ("rb+", then "wb+") */
static void xs_file_constructor(txMachine *the)
{
	int argc = xsToInteger(xsArgc);
	int write = (argc > 1) && xsToBoolean(xsArg(1));
	xtReply reply;
	xtFile *file;
	if (argc < 1)
		xsTypeError("path required");
	xt_storage_path(the, XT_FILE_OPEN, 0, write, &xsArg(0), &reply);
	if (reply.status <= 0)
		xsUnknownError("file not found");
	file = c_calloc(1, sizeof(xtFile));
	if (!file) {
		xt_storage_simple(XT_FILE_CLOSE, reply.status, 0, 0, &reply);
		xsUnknownError("no memory for file");
	}
	file->handle = reply.status;
	xsSetHostData(xsThis, file);
}

static uint32_t file_size(xtFile *file)
{
	xtReply reply;
	xt_storage_simple(XT_FILE_SIZE, file->handle, 0, 0, &reply);
	return reply.value;
}

/* read(String | ArrayBuffer[, count]): `count` bytes from the position, by default to the end */
static void xs_file_read(txMachine *the)
{
	xtFile *file = get_file(the);
	int argc = xsToInteger(xsArgc), string;
	int32_t count, size;
	xtReply reply;
	void *into;
	xsVars(1);
	count = (argc < 2) ? -1 : xsToInteger(xsArg(1));
	size = (int32_t)file_size(file);
	if ((count == -1) || ((double)size < (double)file->position + count)) {
		if (file->position >= size)
			xsUnknownError("read past end of file");
		count = size - file->position;
	}
	if (count < 0)
		xsRangeError("invalid count");
	xsVar(0) = xsGet(xsGlobal, xsID("String"));
	string = (argc > 0) && (xsArg(0).kind == XS_REFERENCE_KIND) && (xsArg(0).value.reference == xsVar(0).value.reference);
	/* allocate first (a collection may run), then take the bytes straight into the result */
	if (string)
		xsResult = xsStringBuffer(NULL, count);
	else
		xsResult = xsArrayBuffer(NULL, count);
	xt_storage_begin(XT_FILE_READ, file->handle, file->position, count, 0);
	xt_storage_reply(&reply);
	if (reply.status != count) {
		xt_storage_payload(&reply, NULL, 0);
		xsUnknownError("file read failed");
	}
	into = string ? (void *)xsResult.value.string : xsToArrayBuffer(xsResult);
	xt_storage_payload(&reply, into, count);
	file->position += count;
}

/* The bytes of one write() item: a string's UTF-8, a number's low byte, an ArrayBuffer's
 * bytes; anything else throws as lin's xsmcToArrayBuffer does (a typed array included). */
static uint32_t item_bytes(txMachine *the, txSlot *item, const uint8_t **bytes, uint8_t *scratch)
{
	txSlot *buffer;
	switch (xsTypeOf(*item)) {
	case xsStringType:
		*bytes = (const uint8_t *)item->value.string;
		return c_strlen(item->value.string);
	case xsIntegerType:
	case xsNumberType:
		*scratch = (uint8_t)xsToInteger(*item);
		*bytes = scratch;
		return 1;
	}
	buffer = (item->kind == XS_REFERENCE_KIND) ? item->value.reference->next : NULL;
	if (!buffer || !(buffer->flag & XS_INTERNAL_FLAG) || (buffer->kind != XS_ARRAY_BUFFER_KIND))
		xsTypeError("not an ArrayBuffer instance");
	if (!buffer->value.arrayBuffer.address)
		xsTypeError("detached buffer");
	*bytes = (const uint8_t *)buffer->value.arrayBuffer.address;
	return buffer->next->value.bufferInfo.length;
}

/* write(...items): all items at the position in one request, written once it all arrived */
static void xs_file_write(txMachine *the)
{
	xtFile *file = get_file(the);
	int argc = xsToInteger(xsArgc), i;
	uint32_t total = 0;
	const uint8_t *bytes;
	uint8_t scratch;
	xtReply reply;
	for (i = 0; i < argc; i++)
		total += item_bytes(the, &xsArg(i), &bytes, &scratch);
	if (!total)
		return;
	/* nothing below allocates, so the items' bytes stay where they are */
	xt_storage_begin(XT_FILE_WRITE, file->handle, file->position, 0, total);
	for (i = 0; i < argc; i++) {
		uint32_t n = item_bytes(the, &xsArg(i), &bytes, &scratch);
		xt_write_all(XT_STORAGE_FD, bytes, n);
	}
	xt_storage_reply(&reply);
	xt_storage_payload(&reply, NULL, 0);
	if (reply.status != (int32_t)total)
		xsUnknownError("file write failed");
	file->position += total;
}

static void xs_file_close(txMachine *the)
{
	xtFile *file = get_file(the);
	xsSetHostData(xsThis, NULL);
	release(file);
}

static void xs_file_get_length(txMachine *the)
{
	xsResult = xsInteger((xsIntegerValue)file_size(get_file(the)));
}

static void xs_file_get_position(txMachine *the)
{
	xsResult = xsInteger(get_file(the)->position);
}

/* as fseek(SEEK_SET): past the end is allowed (a write there leaves zeros), negative is ignored */
static void xs_file_set_position(txMachine *the)
{
	xtFile *file = get_file(the);
	int32_t position = xsToInteger(xsArg(0));
	if (position >= 0)
		file->position = position;
}

static void path_boolean(txMachine *the, uint32_t op)
{
	xtReply reply;
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("path required");
	xt_storage_path(the, op, 0, 0, &xsArg(0), &reply);
	xsResult = xsBoolean(reply.status == 1);
}

static void xs_file_delete(txMachine *the)
{
	path_boolean(the, XT_FILE_DELETE);
}

static void xs_file_exists(txMachine *the)
{
	path_boolean(the, XT_FILE_EXISTS);
}

/* File.rename(path, to): `to` without a leading '/' is a name in path's directory */
static void xs_file_rename(txMachine *the)
{
	const char *from, *to, *slash;
	uint32_t fromLength, dirLength = 0, toLength;
	xtReply reply;
	if (xsToInteger(xsArgc) < 2)
		xsTypeError("path and name required");
	fxToString(the, &xsArg(0));
	fxToString(the, &xsArg(1));
	/* no allocation from here: the strings stay put */
	from = xsArg(0).value.string;
	to = xsArg(1).value.string;
	if (to[0] != '/') {
		if (c_strchr(to + 1, '/'))
			xsUnknownError("invalid to");
		slash = c_strrchr(from, '/');
		if (!slash)
			xsUnknownError("invalid from");
		dirLength = (uint32_t)(slash - from) + 1;
	}
	fromLength = c_strlen(from);
	toLength = c_strlen(to);
	xt_storage_begin(XT_FILE_RENAME, 0, 0, 0, fromLength + 1 + dirLength + toLength);
	xt_write_all(XT_STORAGE_FD, from, fromLength + 1);	/* with its NUL */
	xt_write_all(XT_STORAGE_FD, from, dirLength);
	xt_write_all(XT_STORAGE_FD, to, toLength);
	xt_storage_reply(&reply);
	xt_storage_payload(&reply, NULL, 0);
	if (reply.status == XT_FILE_OUTSIDE)		/* value: which one */
		xsUnknownError("%s: outside the storage directory", reply.value ? to : from);
	xsResult = xsBoolean(reply.status == 1);
}

static const xtHostFunction functions[] = {
	{"File", xs_file_constructor, 2, xs_file_destructor},
	{"fileRead", xs_file_read, 2},
	{"fileWrite", xs_file_write, 1},
	{"fileClose", xs_file_close, 0},
	{"fileLength", xs_file_get_length, 0},
	{"fileGetPosition", xs_file_get_position, 0},
	{"fileSetPosition", xs_file_set_position, 1},
	{"fileDelete", xs_file_delete, 1},
	{"fileExists", xs_file_exists, 1},
	{"fileRename", xs_file_rename, 2},
};

void xt_file_install(txMachine *the, txSlot *host)
{
	xt_host_functions(the, host, functions, XT_COUNT(functions));
}
