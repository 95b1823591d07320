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

/* One implementation for both widths: the register is 16 bits and a CRC8 runs in its top
 * byte (polynomial and initial value shifted up 8, its low byte stays 0), so the table and
 * the step r = (r << 8) ^ table[(r >> 8) ^ byte] are the same for both. A CRC8's table
 * takes 512 bytes rather than 256 (the store's is a CRC16). */
typedef struct {
	uint16_t initial, crc, xorOutput;
	uint8_t shift;		/* 16 - width: where the CRC sits in the register */
	uint8_t reflectInput, reflectOutput;
	uint16_t table[256];
} xtCRC;

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

/* Most significant bit first; reflection is of each input byte and of the result. */
static void crc_construct(txMachine *the, int width)
{
	int shift = 16 - width, i, bit;
	uint16_t polynomial = (uint16_t)((uint32_t)argument(the, 0) << shift);
	xtCRC crc;
	crc.shift = (uint8_t)shift;
	crc.initial = crc.crc = (uint16_t)((uint32_t)argument(the, 1) << shift);
	crc.reflectInput = argument(the, 2) != 0;
	crc.reflectOutput = argument(the, 3) != 0;
	crc.xorOutput = (uint16_t)(argument(the, 4) & (0xFFFF >> shift));
	for (i = 0; i < 256; i++) {
		uint16_t r = (uint16_t)(i << 8);
		for (bit = 0; bit < 8; bit++)
			r = (r & 0x8000) ? (uint16_t)((r << 1) ^ polynomial) : (uint16_t)(r << 1);
		crc.table[i] = r;
	}
	xsSetHostChunk(xsThis, &crc, sizeof(crc));
}

/* the validator (the class's destructor) keeps each class's methods off the other's instances */
static xtCRC *crc_state(txMachine *the, txDestructor validator)
{
	return (xtCRC *)fxGetHostChunkValidate(the, &xsThis, (void *)validator);
}

static void crc_checksum(txMachine *the, txDestructor validator)
{
	uint32_t length, i;
	const uint8_t *bytes = buffer_bytes(the, &length);
	xtCRC *crc = crc_state(the, validator);
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
	/* reflecting all 16 bits brings a CRC8 down to the low byte, reflected */
	result = crc->reflectOutput ? reverse16(r) : (uint16_t)(r >> crc->shift);
	xsResult = xsInteger(result ^ crc->xorOutput);
}

static void xs_crc16_constructor(txMachine *the)
{
	crc_construct(the, 16);
}

static void xs_crc8_constructor(txMachine *the)
{
	crc_construct(the, 8);
}

static void xs_crc16_checksum(txMachine *the)
{
	crc_checksum(the, xs_crc16_destructor);
}

static void xs_crc8_checksum(txMachine *the)
{
	crc_checksum(the, xs_crc8_destructor);
}

static void xs_crc16_reset(txMachine *the)
{
	xtCRC *crc = crc_state(the, xs_crc16_destructor);
	crc->crc = crc->initial;
}

static void xs_crc8_reset(txMachine *the)
{
	xtCRC *crc = crc_state(the, xs_crc8_destructor);
	crc->crc = crc->initial;
	xsResult = xsThis;
}

/* close(): the chunk goes with the next collection; later calls find no state and throw */
static void xs_crc_close(txMachine *the)
{
	xsSetHostData(xsThis, NULL);
}

/* instances are host objects holding the state chunk, with their class's destructor */
static const xtHostFunction functions[] = {
	{"CRC16", xs_crc16_constructor, 5, xs_crc16_destructor},
	{"CRC8", xs_crc8_constructor, 5, xs_crc8_destructor},
	{"crc16Checksum", xs_crc16_checksum, 1},
	{"crc16Reset", xs_crc16_reset, 0},
	{"crc8Checksum", xs_crc8_checksum, 1},
	{"crc8Reset", xs_crc8_reset, 0},
	{"crcClose", xs_crc_close, 0},
};

void xt_crc_install(txMachine *the, txSlot *host)
{
	xt_host_functions(the, host, functions, XT_COUNT(functions));
}
