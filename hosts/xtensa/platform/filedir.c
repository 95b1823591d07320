/* `file`'s Iterator and Directory, as the Moddable SDK's Linux simulator has them:
 * new Iterator(path) lists a directory, next() gives {name} for a directory (".." and "."
 * included, as readdir gives them), {name, length} for a file, then undefined;
 * Directory.create(path) (an existing one is fine), Directory.delete(path) (a missing one
 * is fine). The listing is the Node side's (storage.mjs), inside the storage directory. */
#include "host.h"

static void xs_iterator_destructor(void *data)
{
	xtReply reply;
	if (data)
		xt_storage_simple(XT_DIR_CLOSE, (uint32_t)(uintptr_t)data, 0, 0, &reply);
}

static void xs_iterator_constructor(txMachine *the)
{
	xtReply reply;
	if ((xsToInteger(xsArgc) < 1) || !c_strlen(xsToString(xsArg(0))))
		xsUnknownError("bad path");
	xt_storage_path(the, XT_DIR_OPEN, 0, 0, &xsArg(0), &reply);
	if (reply.status <= 0)
		xsUnknownError("failed to open directory");
	xsSetHostData(xsThis, (void *)(uintptr_t)reply.status);	/* the handle, never 0 */
}

static void xs_iterator_next(txMachine *the)
{
	uint32_t handle = (uint32_t)(uintptr_t)xsGetHostData(xsThis);
	xtReply reply;
	char name[256];		/* the Node side sends at most 255 bytes (NAME_MAX) */
	uint32_t length;
	if (!handle)
		return;		/* ended */
	xt_storage_begin(XT_DIR_NEXT, handle, 0, 0, 0);
	xt_storage_reply(&reply);
	if (reply.status <= 0) {
		xt_storage_payload(&reply, NULL, 0);
		xsSetHostData(xsThis, NULL);	/* the Node side released it at the end */
		return;
	}
	/* the whole reply is read before allocating: a collection may close a File (a request) */
	length = (reply.length < sizeof(name)) ? reply.length : sizeof(name) - 1;
	xt_storage_payload(&reply, name, length);
	name[length] = 0;
	length = reply.value;
	xsVars(1);
	xsVar(0) = xsString(name);
	xsResult = xsNewObject();
	xsSet(xsResult, xsID("name"), xsVar(0));
	if (reply.status == 2)
		xsSet(xsResult, xsID("length"), xsInteger((xsIntegerValue)length));
}

static void directory(txMachine *the, uint32_t op)
{
	xtReply reply;
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("path required");
	xt_storage_path(the, op, 0, 0, &xsArg(0), &reply);
	if (reply.status < 0)
		xsUnknownError("failed");
}

static void xs_directory_create(txMachine *the)
{
	directory(the, XT_DIR_CREATE);
}

static void xs_directory_delete(txMachine *the)
{
	directory(the, XT_DIR_DELETE);
}

static const xtHostFunction functions[] = {
	{"Iterator", xs_iterator_constructor, 1, xs_iterator_destructor},
	{"iteratorNext", xs_iterator_next, 0},
	{"directoryCreate", xs_directory_create, 1},
	{"directoryDelete", xs_directory_delete, 1},
};

void xt_filedir_install(txMachine *the, txSlot *host)
{
	xt_host_functions(the, host, functions, XT_COUNT(functions));
}
