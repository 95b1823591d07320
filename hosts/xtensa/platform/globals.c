/* What a Moddable device provides to every app: trace(), ArrayBuffer.fromString(),
 * String.fromArrayBuffer(); and the `xtensa` module's instruction counter and stack depth. */
#include "host.h"
#include <string.h>
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

/* Whether bytes are UTF-8 as a device checks it: lead and continuation bytes only. */
static int utf8_ok(const uint8_t *p, xsUnsignedValue count)
{
	const uint8_t *end = p + count;
	while (p < end) {
		uint8_t c = *p++;
		int more = (c < 0x80) ? 0 : ((c & 0xE0) == 0xC0) ? 1 : ((c & 0xF0) == 0xE0) ? 2 : ((c & 0xF8) == 0xF0) ? 3 : -1;
		if (more < 0 || (end - p) < more)
			return 0;
		while (more--)
			if ((*p++ & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

/* String.fromArrayBuffer(buffer[, offset[, length]]): the bytes as a string; TypeError for
 * malformed UTF-8, RangeError for a range past the end; the string ends at a NUL byte. */
static void xs_string_from_array_buffer(txMachine *the)
{
	void *data;
	xsUnsignedValue size;
	int argc = xsToInteger(xsArgc);
	xsIntegerValue offset = 0, length;
	const uint8_t *bytes, *nul;
	if ((argc < 1) || !xsIsInstanceOf(xsArg(0), xsArrayBufferPrototype))
		xsTypeError("String.fromArrayBuffer: not an ArrayBuffer");
	_xsmcGetBuffer(the, &xsArg(0), &data, &size, 0);
	if ((argc > 1) && (xsTypeOf(xsArg(1)) != xsUndefinedType))
		offset = xsToInteger(xsArg(1));
	length = (xsIntegerValue)size - offset;
	if ((argc > 2) && (xsTypeOf(xsArg(2)) != xsUndefinedType))
		length = xsToInteger(xsArg(2));
	if ((offset < 0) || (length < 0) || ((xsUnsignedValue)offset + (xsUnsignedValue)length > size))
		xsRangeError("String.fromArrayBuffer: range past the end of the buffer");
	bytes = (const uint8_t *)data + offset;
	nul = memchr(bytes, 0, length);
	if (nul)
		length = (xsIntegerValue)(nul - bytes);
	if (!utf8_ok(bytes, length))
		xsTypeError("invalid UTF-8");
	xsResult = xsStringBuffer(NULL, length);
	/* the allocation may have moved the buffer: take its address again */
	_xsmcGetBuffer(the, &xsArg(0), &data, &size, 0);
	c_memcpy(xsToString(xsResult), (const uint8_t *)data + offset, length);
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

static void host_class(txMachine *the, txSlot *host, const char *name, txCallback constructor, int length, txDestructor destructor)
{
	/* the prototype is a host object: XS makes each instance one too, with its destructor;
	 * the base flag (what XS_CODE_CLASS sets) has `new` create `this` from new.target */
	xsVar(1) = xsNewHostObject(destructor);
	xsVar(2) = xsNewHostConstructorObject(constructor, length, xsVar(1), xsID(name));
	xsVar(2).value.reference->next->flag |= XS_BASE_FLAG;
	xsSet(*host, xsID(name), xsVar(2));
}

void xt_host_functions(txMachine *the, txSlot *host, const xtHostFunction *functions, int count)
{
	int i;
	for (i = 0; i < count; i++) {
		const xtHostFunction *f = &functions[i];
		if (f->destructor)
			host_class(the, host, f->name, f->callback, f->length, f->destructor);
		else {
			xsVar(1) = xsNewHostFunction(f->callback, f->length);
			xsSet(*host, xsID(f->name), xsVar(1));
		}
	}
}

static const xtHostFunction functions[] = {
	{"instructions", xs_instructions, 0},
	{"stackDepth", xs_stack_depth, 0},
};

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
	xsVar(2) = xsNewHostFunction(xs_string_from_array_buffer, 3);
	xsDefine(xsVar(1), xsID("fromArrayBuffer"), xsVar(2), xsDontEnum);
	xt_host_functions(the, host, functions, XT_COUNT(functions));
}
