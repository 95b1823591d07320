/* What a Moddable device provides to every app: trace(), ArrayBuffer.fromString(),
 * String.fromArrayBuffer(); and the `xtensa` module's instruction counter and stack depth. */
#include "host.h"
#include "semihost.h"

/* trace(...items): the items as strings, written as is (no newline added) */
static void xs_trace(txMachine *the)
{
	int argc = xsToInteger(xsArgc), i;
	for (i = 0; i < argc; i++) {
		const char *text = xsToString(xsArg(i));
		fputs(text, stdout);
	}
	fflush(stdout);
}

static void xs_array_buffer_from_string(txMachine *the)
{
	size_t length;
	void *bytes;
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("ArrayBuffer.fromString: string required");
	length = c_strlen(xsToString(xsArg(0)));
	/* allocate first: a collection may move the string, so its address is taken after */
	bytes = fxArrayBuffer(the, &xsResult, NULL, (txInteger)length, -1);
	c_memcpy(bytes, xsToString(xsArg(0)), length);
}

static void xs_string_from_array_buffer(txMachine *the)
{
	void *data;
	xsUnsignedValue count;
	if ((xsToInteger(xsArgc) < 1) || !xsIsInstanceOf(xsArg(0), xsArrayBufferPrototype))
		xsTypeError("String.fromArrayBuffer: not an ArrayBuffer");
	_xsmcGetBuffer(the, &xsArg(0), &data, &count, 0);
	xsResult = xsStringBuffer(NULL, count);
	/* the allocation may have moved the buffer: take its address again */
	_xsmcGetBuffer(the, &xsArg(0), &data, &count, 0);
	c_memcpy(xsToString(xsResult), data, count);
}

/* instructions(): guest instructions retired since start (semihost.h) */
static void xs_instructions(txMachine *the)
{
	xsResult = xsNumber(xt_instructions());
}

/* stackDepth(): XS stack slots in use by the caller and everything below it */
static void xs_stack_depth(txMachine *the)
{
	xsResult = xsInteger((xsIntegerValue)(the->stackTop - the->stack));
}

void xt_globals_install(txMachine *the, txSlot *host)
{
	/* xsVar(1) and xsVar(2) are the caller's scratch slots */
	xsVar(1) = xsNewHostFunction(xs_trace, 0);
	xsVar(2) = xsNewHostFunction(xs_trace, 0);
	xsSet(xsVar(1), xsID("left"), xsVar(2));
	xsSet(xsVar(1), xsID("center"), xsVar(2));
	xsSet(xsVar(1), xsID("right"), xsVar(2));
	xsDefine(xsGlobal, xsID("trace"), xsVar(1), xsDontEnum);
	xsVar(1) = xsGet(xsGlobal, xsID("ArrayBuffer"));
	xsVar(2) = xsNewHostFunction(xs_array_buffer_from_string, 1);
	xsDefine(xsVar(1), xsID("fromString"), xsVar(2), xsDontEnum);
	xsVar(1) = xsGet(xsGlobal, xsID("String"));
	xsVar(2) = xsNewHostFunction(xs_string_from_array_buffer, 1);
	xsDefine(xsVar(1), xsID("fromArrayBuffer"), xsVar(2), xsDontEnum);
	xsVar(1) = xsNewHostFunction(xs_instructions, 0);
	xsSet(*host, xsID("instructions"), xsVar(1));
	xsVar(1) = xsNewHostFunction(xs_stack_depth, 0);
	xsSet(*host, xsID("stackDepth"), xsVar(1));
}
