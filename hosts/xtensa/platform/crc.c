/* `crc` as the Moddable SDK's modules/data/crc: new CRC8 / CRC16(polynomial, initial,
 * reflectInput, reflectOutput, xorOutput); checksum(buffer) runs the register over the
 * bytes (it carries on across calls) and returns it, reflected and xored if asked;
 * reset() goes back to `initial` (CRC8's returns the object, CRC16's undefined, as the
 * SDK's); close() drops the state, after which checksum and reset throw.
 * Table-driven, one lookup a byte, in C: a per-byte JavaScript loop costs a device far
 * more. The state (the 256-entry table) is a host chunk in the XS heap, as on a device. */
#include "host.h"

/* in xs.h and xsmc.h, whose declarations xsAll.h keeps out of the platform's build */
void *fxGetHostChunkValidate(txMachine *the, txSlot *slot, void *validator);
txInteger _xsmcGetBuffer(txMachine *the, txSlot *slot, void **data, txUnsigned *count, txBoolean writable);

typedef struct {
	uint16_t initial, crc, xorOutput;
	uint8_t reflectInput, reflectOutput;
	uint16_t table[256];
} xtCRC16;

typedef struct {
	uint8_t initial, crc, xorOutput;
	uint8_t reflectInput, reflectOutput;
	uint8_t table[256];
} xtCRC8;

static uint8_t reverse8(uint8_t b)
{
	b = (uint8_t)((b >> 4) | (b << 4));
	b = (uint8_t)(((b & 0xCC) >> 2) | ((b & 0x33) << 2));
	return (uint8_t)(((b & 0xAA) >> 1) | ((b & 0x55) << 1));
}

static uint16_t reverse16(uint16_t v)
{
	return (uint16_t)((reverse8((uint8_t)v) << 8) | reverse8((uint8_t)(v >> 8)));
}

/* No-op destructors (the state is a chunk the collector frees) that tell a CRC16 from a CRC8. */
static void xs_crc16_destructor(void *data)
{
	(void)data;
}

static void xs_crc8_destructor(void *data)
{
	(void)data;
}

#define crc16_state() ((xtCRC16 *)fxGetHostChunkValidate(the, &xsThis, (void *)xs_crc16_destructor))
#define crc8_state() ((xtCRC8 *)fxGetHostChunkValidate(the, &xsThis, (void *)xs_crc8_destructor))

/* The constructor's arguments, as the SDK reads them: integers, missing ones 0. */
static int argument(txMachine *the, int index)
{
	return (xsToInteger(xsArgc) > index) ? xsToInteger(xsArg(index)) : 0;
}

/* The buffer's bytes (ArrayBuffer, a byte-sized typed array, DataView, host buffer), as
 * xsmcGetBufferReadable; nothing allocates between this and the loop that reads them. */
static const uint8_t *buffer_bytes(txMachine *the, uint32_t *length)
{
	void *data;
	xsUnsignedValue count;
	if (xsToInteger(xsArgc) < 1)
		xsTypeError("buffer required");
	_xsmcGetBuffer(the, &xsArg(0), &data, &count, 0);
	*length = count;
	return data;
}

/* ---- CRC16: most significant bit first; reflection is of each input byte and of the result ---- */

static void xs_crc16_constructor(txMachine *the)
{
	int polynomial = argument(the, 0), i, bit;
	xtCRC16 crc;
	crc.initial = crc.crc = (uint16_t)argument(the, 1);
	crc.reflectInput = argument(the, 2) != 0;
	crc.reflectOutput = argument(the, 3) != 0;
	crc.xorOutput = (uint16_t)argument(the, 4);
	for (i = 0; i < 256; i++) {
		uint16_t r = (uint16_t)(i << 8);
		for (bit = 0; bit < 8; bit++)
			r = (r & 0x8000) ? (uint16_t)((r << 1) ^ polynomial) : (uint16_t)(r << 1);
		crc.table[i] = r;
	}
	xsSetHostChunk(xsThis, &crc, sizeof(crc));
}

static void xs_crc16_checksum(txMachine *the)
{
	uint32_t length, i;
	const uint8_t *bytes = buffer_bytes(the, &length);
	xtCRC16 *crc = crc16_state();
	uint16_t r = crc->crc, result;
	if (crc->reflectInput) {
		for (i = 0; i < length; i++)
			r = (uint16_t)((r << 8) ^ crc->table[(r >> 8) ^ reverse8(bytes[i])]);
	}
	else {
		for (i = 0; i < length; i++)
			r = (uint16_t)((r << 8) ^ crc->table[(r >> 8) ^ bytes[i]]);
	}
	crc->crc = r;
	result = crc->reflectOutput ? reverse16(r) : r;
	xsResult = xsInteger(result ^ crc->xorOutput);
}

static void xs_crc16_reset(txMachine *the)
{
	xtCRC16 *crc = crc16_state();
	crc->crc = crc->initial;
}

/* ---- CRC8 ---- */

static void xs_crc8_constructor(txMachine *the)
{
	int polynomial = argument(the, 0), i, bit;
	xtCRC8 crc;
	crc.initial = crc.crc = (uint8_t)argument(the, 1);
	crc.reflectInput = argument(the, 2) != 0;
	crc.reflectOutput = argument(the, 3) != 0;
	crc.xorOutput = (uint8_t)argument(the, 4);
	for (i = 0; i < 256; i++) {
		uint8_t r = (uint8_t)i;
		for (bit = 0; bit < 8; bit++)
			r = (r & 0x80) ? (uint8_t)((r << 1) ^ polynomial) : (uint8_t)(r << 1);
		crc.table[i] = r;
	}
	xsSetHostChunk(xsThis, &crc, sizeof(crc));
}

static void xs_crc8_checksum(txMachine *the)
{
	uint32_t length, i;
	const uint8_t *bytes = buffer_bytes(the, &length);
	xtCRC8 *crc = crc8_state();
	uint8_t r = crc->crc;
	if (crc->reflectInput) {
		for (i = 0; i < length; i++)
			r = crc->table[r ^ reverse8(bytes[i])];
	}
	else {
		for (i = 0; i < length; i++)
			r = crc->table[r ^ bytes[i]];
	}
	crc->crc = r;
	xsResult = xsInteger((crc->reflectOutput ? reverse8(r) : r) ^ crc->xorOutput);
}

static void xs_crc8_reset(txMachine *the)
{
	xtCRC8 *crc = crc8_state();
	crc->crc = crc->initial;
	xsResult = xsThis;
}

/* close(): the chunk goes with the next collection; later calls find no state and throw */
static void xs_crc_close(txMachine *the)
{
	xsSetHostData(xsThis, NULL);
}

void xt_crc_install(txMachine *the, txSlot *host)
{
	/* xsVar(1) and xsVar(2) are the caller's scratch slots; instances are host objects that
	 * hold the state chunk, with their class's destructor */
	xt_host_class(the, host, "CRC16", xs_crc16_constructor, 5, xs_crc16_destructor);
	xt_host_class(the, host, "CRC8", xs_crc8_constructor, 5, xs_crc8_destructor);
	xsVar(1) = xsNewHostFunction(xs_crc16_checksum, 1);
	xsSet(*host, xsID("crc16Checksum"), xsVar(1));
	xsVar(1) = xsNewHostFunction(xs_crc16_reset, 0);
	xsSet(*host, xsID("crc16Reset"), xsVar(1));
	xsVar(1) = xsNewHostFunction(xs_crc8_checksum, 1);
	xsSet(*host, xsID("crc8Checksum"), xsVar(1));
	xsVar(1) = xsNewHostFunction(xs_crc8_reset, 0);
	xsSet(*host, xsID("crc8Reset"), xsVar(1));
	xsVar(1) = xsNewHostFunction(xs_crc_close, 0);
	xsSet(*host, xsID("crcClose"), xsVar(1));
}
