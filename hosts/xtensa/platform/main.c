/* The XS platform of the Xtensa tier: boots the engine on the emulated lx106, loads the
 * app's modules (JavaScript source read over semihosting and parsed here, since there is
 * no xsc), then runs the app the way a device does, with a heap fixed at creation.
 *
 * Start path (as a device with preload): every module but main is imported first
 * (a device keeps those in flash); then a garbage collection; then the heap switches
 * to one block of `static` bytes (creation.static) from which chunks grow upward and
 * slots downward, as Moddable's ESP32 platform does; nothing grows past it. Then main is
 * imported and its default export called, directly from C. The XS stack holds
 * creation.stack slots from the start.
 *
 * xtensa.cfg (written by host.mjs in the staging directory), one "key value" a line:
 * static, stack, epoch (Date.now() at start), stats (1: report usage), preload (a module,
 * repeatable), main. */
#include "host.h"
#include "semihost.h"

uint32_t xt_now;
double xt_epoch;

static struct {
	uint32_t staticSize;
	uint32_t stackCount;
	int stats;
	char main[64];
	char preload[64][64];
	int preloadCount;
} config = { 65536, 384, 0, "main", {{0}}, 0 };

/* ---- fixed heap ---- */

static uint8_t *static_low, *static_high;	/* free space is [static_low, static_high) */
static uint8_t *static_base, *static_start, *static_top;
static int heap_fixed;
static uint32_t preload_free;			/* free bytes left in the preload blocks after gc */

void *fxAllocateChunks(txMachine *the, txSize size)
{
	uint8_t *result;
	(void)the;
	if (!heap_fixed)
		return c_malloc(size);
	size = (size + 15) & ~15;
	if ((uint32_t)(static_high - static_low) < (uint32_t)size)
		return NULL;		/* "memory full": the device's heap is all there is */
	result = static_low;
	static_low += size;
	return result;
}

void fxFreeChunks(txMachine *the, void *chunks)
{
	(void)the;
	if ((uint8_t *)chunks < static_base || (uint8_t *)chunks >= static_top)
		c_free(chunks);
}

txSlot *fxAllocateSlots(txMachine *the, txSize count)
{
	uint32_t size = count * sizeof(txSlot);
	if (!heap_fixed)
		return c_malloc(size);
	if ((uint32_t)(static_high - static_low) < size) {
		/* XS asks for more slots when collections free few; with free slots left it may
		 * go on without growing ((void*)-1), else it reports memory full */
		return the->freeHeap ? (txSlot *)-1 : NULL;
	}
	static_high -= size;
	return (txSlot *)static_high;
}

void fxFreeSlots(txMachine *the, void *slots)
{
	(void)the;
	if ((uint8_t *)slots < static_base || (uint8_t *)slots >= static_top)
		c_free(slots);
}

static uint32_t free_in_preload(txMachine *the)
{
	return (uint32_t)(the->maximumChunksSize - the->currentChunksSize)
		+ (uint32_t)(the->maximumHeapCount - the->currentHeapCount) * sizeof(txSlot);
}

/* Ballast: when the preload blocks have more free space than the app is allowed, fill the
 * excess with objects and buffers kept alive for good, so the app never gets more than
 * creation.static. */
static txSlot ballast;

static void add_ballast(txMachine *the, uint32_t excess)
{
	xsBeginHost(the);
	{
		xsVars(2);
		xsVar(0) = xsNull;
		/* chunk space first: buffers sized to the free tail of a block */
		while (excess >= 64) {
			txBlock *block;
			txSize tail = 0, size;
			uint32_t before = the->currentChunksSize;
			for (block = the->firstBlock; block; block = block->nextBlock)
				if (block->limit - block->current > tail)
					tail = (txSize)(block->limit - block->current);
			size = (txSize)((excess < (uint32_t)tail ? excess : (uint32_t)tail) - 32) & ~7;
			if (size < 32)
				break;
			xsVar(1) = xsNewObject();
			xsSet(xsVar(1), xsID("next"), xsVar(0));
			xsVar(0) = xsVar(1);
			xsVar(1) = xsArrayBuffer(NULL, size);
			xsSet(xsVar(0), xsID("buffer"), xsVar(1));
			excess -= (the->currentChunksSize - before < excess) ? the->currentChunksSize - before : excess;
		}
		/* then slots: two per link of a chain */
		while ((excess >= 2 * sizeof(txSlot)) && the->freeHeap && the->freeHeap->next && the->freeHeap->next->next) {
			xsVar(1) = xsNewObject();
			xsSet(xsVar(1), xsID("next"), xsVar(0));
			xsVar(0) = xsVar(1);
			excess -= 2 * sizeof(txSlot);
		}
		ballast = xsVar(0);
		xsRemember(ballast);
	}
	xsEndHost(the);
}

/* Switch to the fixed heap. On an ESP32 creation.static holds slots, chunks and the XS
 * stack; here the stack and what the preload blocks still have free count against it,
 * so the app gets `static` bytes in all. */
static void fix_heap(txMachine *the)
{
	uint32_t budget, allowed, stack = config.stackCount * sizeof(txSlot);
	allowed = (config.staticSize > stack) ? config.staticSize - stack : 0;
	if (free_in_preload(the) > allowed)
		add_ballast(the, free_in_preload(the) - allowed);
	preload_free = free_in_preload(the);
	budget = (allowed > preload_free) ? allowed - preload_free : 0;
	static_base = c_malloc(budget + 16);
	if (!static_base) {
		fprintf(stderr, "xtensa: cannot reserve the %lu-byte heap\n", (unsigned long)budget);
		xt_exit(2);
	}
	static_low = (uint8_t *)(((uintptr_t)static_base + 15) & ~(uintptr_t)15);
	static_start = static_low;
	static_high = static_low + (budget & ~15u);
	static_top = static_high;
	/* Moddable's base manifest increments: grow by 512 bytes of chunks, 64 slots */
	the->minimumChunksSize = 512;
	the->minimumHeapCount = 64;
	heap_fixed = 1;
}

/* ---- stack high-water mark: the unused part of the XS stack is painted ---- */

#define PAINT 0xA5

static void paint_stack(txMachine *the)
{
	c_memset(the->stackBottom, PAINT, (uint8_t *)the->stack - (uint8_t *)the->stackBottom);
}

/* XS uses the bottom of its stack as scratch (dtoa, regexps), upward; frames grow down
 * from the top. The peak is where, going down from the top, the first slot still
 * wholly painted is. */
static uint32_t stack_peak(txMachine *the)
{
	txSlot *slot = the->stackTop;
	while (slot > the->stackBottom) {
		const uint8_t *p = (const uint8_t *)(slot - 1);
		size_t i;
		for (i = 0; i < sizeof(txSlot); i++)
			if (p[i] != PAINT)
				break;
		if (i == sizeof(txSlot))
			break;
		slot--;
	}
	return (uint32_t)(the->stackTop - slot);
}

static void send_stats(txMachine *the)
{
	char text[200];
	int n;
	if (!config.stats)
		return;
	n = c_snprintf(text, sizeof(text),
		"stack_peak=%lu stack=%lu heap_used=%lu static=%lu preload_free=%lu slots=%lu chunks=%lu instructions=%.0f",
		(unsigned long)stack_peak(the), (unsigned long)config.stackCount,
		(unsigned long)((static_low - static_start) + (static_top - static_high)),
		(unsigned long)config.staticSize, (unsigned long)preload_free,
		(unsigned long)the->currentHeapCount, (unsigned long)the->currentChunksSize,
		xt_instructions());
	xt_send(XT_STATS, 0, 0, text, n);
}

/* ---- platform hooks ---- */

char *fxCStackLimit(void)
{
	extern char __stack[];
	return __stack - (1024 * 1024) + (16 * 1024);	/* link.ld keeps 1 MB for the C stack */
}

void fxCreateMachinePlatform(txMachine *the)
{
	the->host = C_NULL;
}

void fxDeleteMachinePlatform(txMachine *the)
{
	(void)the;
}

static int jobs_queued;

void fxQueuePromiseJobs(txMachine *the)
{
	(void)the;
	jobs_queued = 1;
}

void xt_run_jobs(txMachine *the)
{
	while (jobs_queued) {
		jobs_queued = 0;
		fxRunPromiseJobs(the);
	}
}

/* On a stack overflow, which functions hold the stack: each frame with the slots in use
 * from the top of the stack to it. */
static void report_frames(txMachine *the)
{
	txSlot *frame = the->frame;
	char name[96];
	int count = 0;
	fprintf(stderr, "xtensa: XS stack at the overflow (slots in use, function):\n");
	while (frame && (count++ < 48)) {
		name[0] = 0;
		fxBufferFrameName(the, name, sizeof(name), frame, "");
		fprintf(stderr, "xtensa:   %4ld %s\n", (long)(the->stackTop - frame), name);
		frame = frame->next;
	}
}

void fxAbort(txMachine *the, int status)
{
	const char *why = "unknown";
	switch (status) {
	case XS_STACK_OVERFLOW_EXIT: why = "stack overflow"; break;
	case XS_NOT_ENOUGH_MEMORY_EXIT: why = "memory full"; break;
	case XS_NO_MORE_KEYS_EXIT: why = "not enough keys"; break;
	case XS_UNHANDLED_EXCEPTION_EXIT: why = "unhandled exception"; break;
	case XS_UNHANDLED_REJECTION_EXIT: why = "unhandled rejection"; break;
	case XS_FATAL_CHECK_EXIT: why = "fatal check"; break;
	case XS_DEAD_STRIP_EXIT: why = "dead strip"; break;
	}
	if ((status == XS_UNHANDLED_EXCEPTION_EXIT) || (status == XS_UNHANDLED_REJECTION_EXIT)) {
		const char *message = "";
		mxTry(the) {
			message = fxToString(the, &mxException);
		}
		mxCatch(the) {
		}
		fprintf(stderr, "xtensa: abort: %s: %s\n", why, message);
	}
	else {
		fprintf(stderr, "xtensa: abort: %s\n", why);
		if (status == XS_STACK_OVERFLOW_EXIT)
			report_frames(the);
	}
	fflush(stderr);
	send_stats(the);
	xt_exit(1);
}

int gettimeofday(struct timeval *tv, void *tz)
{
	double ms = xt_epoch + xt_now;
	(void)tz;
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)((ms - (double)tv->tv_sec * 1000) * 1000);
	return 0;
}

/* ---- modules: "<name>.js" files in QEMU's working directory (the staged app) ---- */

static int module_exists(const char *name)
{
	char path[C_PATH_MAX];
	int fd;
	if (c_snprintf(path, sizeof(path), "%s.js", name) >= (int)sizeof(path))
		return 0;
	fd = xt_open(path, 0);
	if (fd < 0)
		return 0;
	xt_close(fd);
	return 1;
}

txID fxFindModule(txMachine *the, txSlot *realm, txID moduleID, txSlot *slot)
{
	char name[C_PATH_MAX];
	size_t length;
	(void)realm;
	(void)moduleID;
	fxToStringBuffer(the, slot, name, sizeof(name));
	length = c_strlen(name);
	if ((length > 3) && !c_strcmp(name + length - 3, ".js"))
		name[length - 3] = 0;
	if ((name[0] == '.') || !module_exists(name))
		return XS_NO_ID;
	return fxNewNameC(the, name);
}

void fxLoadModule(txMachine *the, txSlot *module, txID moduleID)
{
	char path[C_PATH_MAX];
	txStringCStream stream;
	txScript *script;
	char *source;
	int fd, size, got = 0;
	c_snprintf(path, sizeof(path), "%s.js", fxGetKeyName(the, moduleID));
	fd = xt_open(path, 0);
	if (fd < 0)
		return;
	size = xt_file_size(fd);
	source = c_malloc(size + 1);
	if (!source)
		fxAbort(the, XS_NOT_ENOUGH_MEMORY_EXIT);
	while (got < size) {
		int n = xt_read(fd, source + got, size - got);
		if (n <= 0)
			break;
		got += n;
	}
	xt_close(fd);
	source[got] = 0;
	stream.buffer = source;
	stream.offset = 0;
	stream.size = got;
	script = fxParseScript(the, &stream, fxStringCGetter, 0);
	c_free(source);
	if (script)		/* the code stays in C memory, as a device's stays in flash */
		fxResolveModule(the, module, moduleID, script, C_NULL, C_NULL);
}

/* ---- configuration ---- */

static void read_config(void)
{
	char buffer[4096], *line, *next;
	int fd = xt_open("xtensa.cfg", 0), n;
	if (fd < 0) {
		fprintf(stderr, "xtensa: no xtensa.cfg in the working directory\n");
		xt_exit(2);
	}
	n = xt_read(fd, buffer, sizeof(buffer) - 1);
	xt_close(fd);
	buffer[n > 0 ? n : 0] = 0;
	for (line = buffer; line && *line; line = next) {
		char *value;
		next = c_strchr(line, '\n');
		if (next)
			*next++ = 0;
		value = c_strchr(line, ' ');
		if (!value)
			continue;
		*value++ = 0;
		if (!c_strcmp(line, "static"))
			config.staticSize = strtoul(value, NULL, 10);
		else if (!c_strcmp(line, "stack"))
			config.stackCount = strtoul(value, NULL, 10);
		else if (!c_strcmp(line, "epoch"))
			xt_epoch = strtod(value, NULL);
		else if (!c_strcmp(line, "stats"))
			config.stats = atoi(value);
		else if (!c_strcmp(line, "main"))
			c_snprintf(config.main, sizeof(config.main), "%s", value);
		else if (!c_strcmp(line, "preload") && (config.preloadCount < 64))
			c_snprintf(config.preload[config.preloadCount++], 64, "%s", value);
	}
}

/* ---- start and event loop ---- */

static void import_module(txMachine *the, const char *name, int run)
{
	xsBeginHost(the);
	{
		xsVars(1);
		xsResult = xsAwaitImport(name, run ? XS_IMPORT_DEFAULT : XS_IMPORT_NAMESPACE);
		if (run && xsIsInstanceOf(xsResult, xsFunctionPrototype)) {
			xsVar(0) = xsResult;
			xsCallFunction0(xsVar(0), xsGlobal);
		}
	}
	xsEndHost(the);
	xt_run_jobs(the);
}

static void dispatch(txMachine *the, xtFrame *frame)
{
	xt_now = frame->now;
	if (frame->type != XT_TICK)
		xt_socket_frame(the, frame);
	xt_socket_flush(the);
}

static xtFrame frame;

void xt_start(void)
{
	extern char __bss_start[], __bss_end[];
	txCreation creation;
	txMachine *the;
	int i;
	c_memset(__bss_start, 0, __bss_end - __bss_start);
	read_config();
	c_memset(&creation, 0, sizeof(creation));
	creation.initialChunkSize = 32 * 1024;
	creation.incrementalChunkSize = 4 * 1024;
	creation.initialHeapCount = 4096;
	creation.incrementalHeapCount = 512;
	creation.stackCount = config.stackCount;
	creation.initialKeyCount = 1024;
	creation.incrementalKeyCount = 256;
	creation.nameModulo = 127;
	creation.symbolModulo = 127;
	creation.parserBufferSize = 32 * 1024;
	creation.parserTableModulo = 1993;
	creation.staticSize = 0;
	the = xsCreateMachine(&creation, "mqttc-xtensa", NULL);
	if (!the) {
		fprintf(stderr, "xtensa: cannot create the XS machine\n");
		xt_exit(2);
	}
	xsBeginHost(the);
	{
		xsVars(3);
		xsVar(0) = xsNewObject();
		xt_globals_install(the, &xsVar(0));
		xt_socket_install(the, &xsVar(0));
		xt_timer_install(the, &xsVar(0));
		xt_file_install(the, &xsVar(0));
		xt_filedir_install(the, &xsVar(0));
		xt_crc_install(the, &xsVar(0));
		xsDefine(xsGlobal, xsID("xtensaHost"), xsVar(0), xsDontEnum);
	}
	xsEndHost(the);
	for (i = 0; i < config.preloadCount; i++)
		import_module(the, config.preload[i], 0);
	xsCollectGarbage();
	fix_heap(the);
	paint_stack(the);
	xt_now = 0;
	import_module(the, config.main, 1);
	xt_socket_flush(the);
	for (;;) {
		int next = xt_timer_run(the);
		xt_socket_flush(the);
		if (!xt_socket_count() && (next < 0)) {
			send_stats(the);
			xt_exit(0);		/* nothing left to do */
		}
		send_stats(the);
		xt_send(XT_WAIT, 0, (next < 0) ? 0xFFFFFFFFu : (uint32_t)next, NULL, 0);
		xt_receive(&frame);
		dispatch(the, &frame);
		while (xt_wait_readable(XT_CHANNEL_FD, 0)) {
			xt_receive(&frame);
			dispatch(the, &frame);
		}
	}
}

void xt_exception(unsigned cause, unsigned pc, unsigned vaddr)
{
	fprintf(stderr, "xtensa: CPU exception %u at pc 0x%08x (address 0x%08x)\n", cause, pc, vaddr);
	fflush(stderr);
	xt_exit(70);
}
