/* `timer` as on devices (modules/base/timer): Timer.set(callback, ms[, repeat]),
 * Timer.repeat(callback, ms), Timer.schedule(timer[, ms, repeat]), Timer.clear(timer),
 * Timer.delay(ms). A one-shot timer is gone once its callback returned unless the
 * callback rescheduled it; Timer.schedule(timer) unschedules but keeps it. Callbacks
 * run from the event loop as callback.call(globalThis, timer). The clock is xt_now. */
#include "host.h"

typedef struct xtTimerRecord xtTimer;
struct xtTimerRecord {
	xtTimer *next;
	txSlot object;		/* the handle the app holds */
	txSlot callback;
	uint32_t due;
	int32_t interval;	/* 0: one-shot */
	uint8_t scheduled;
	uint32_t generation;	/* bumped by schedule(): a callback that rescheduled wins */
};

/* Live timers, unordered: each is a C allocation, as many as the app created. */
static xtTimer *timers;

int xt_timer_count(void)
{
	int count = 0;
	xtTimer *t;
	for (t = timers; t; t = t->next)
		if (t->scheduled)
			count++;
	return count;
}

static xtTimer *find(txSlot *object)
{
	xtTimer *t;
	if (object->kind != XS_REFERENCE_KIND)
		return NULL;
	for (t = timers; t; t = t->next)
		if (t->object.value.reference == object->value.reference)
			return t;
	return NULL;
}

static void remove_timer(txMachine *the, xtTimer *timer)
{
	xtTimer **link;
	for (link = &timers; *link; link = &(*link)->next) {
		if (*link == timer) {
			*link = timer->next;
			xsForget(timer->object);
			xsForget(timer->callback);
			c_free(timer);
			return;
		}
	}
}

static int32_t to_ms(txMachine *the, int index)
{
	if (xsToInteger(xsArgc) <= index)
		return 0;
	{
		double n = xsToNumber(xsArg(index));
		if (!(n == n) || (n < 0))
			return 0;
		if (n > 0x7FFFFFFF)
			return 0x7FFFFFFF;
		return (int32_t)n;
	}
}

static void create(txMachine *the, int32_t first, int32_t interval)
{
	xtTimer *t;
	if (!xsIsInstanceOf(xsArg(0), xsFunctionPrototype))
		xsTypeError("Timer: callback is not a function");
	t = c_calloc(1, sizeof(xtTimer));
	if (!t)
		xsUnknownError("no memory for timer");
	xsResult = xsNewObject();
	t->object = xsResult;
	t->callback = xsArg(0);
	xsRemember(t->object);
	xsRemember(t->callback);
	t->due = xt_now + first;
	t->interval = interval;
	t->scheduled = 1;
	t->next = timers;
	timers = t;
}

static void xs_timer_set(txMachine *the)
{
	create(the, to_ms(the, 1), to_ms(the, 2));
}

static void xs_timer_repeat(txMachine *the)
{
	int32_t interval = to_ms(the, 1);
	create(the, interval, interval);
}

static void xs_timer_schedule(txMachine *the)
{
	xtTimer *t = find(&xsArg(0));
	if (!t)
		xsUnknownError("Timer.schedule: not a live timer");
	t->generation++;
	if (xsToInteger(xsArgc) < 2) {
		t->scheduled = 0;
		return;
	}
	t->due = xt_now + to_ms(the, 1);
	t->interval = to_ms(the, 2);
	t->scheduled = 1;
}

static void xs_timer_clear(txMachine *the)
{
	xtTimer *t;
	if (xsToInteger(xsArgc) < 1)
		return;
	t = find(&xsArg(0));
	if (t)
		remove_timer(the, t);
}

static void xs_timer_delay(txMachine *the)
{
	/* the guest's clock belongs to the Node side: nothing to wait for here */
	(void)the;
}

static void fire(txMachine *the, xtTimer *t)
{
	uint32_t generation = ++t->generation;
	xsBeginHost(the);
	{
		xsVars(2);
		xsVar(0) = t->callback;
		xsVar(1) = t->object;
		xsCallFunction1(xsVar(0), xsGlobal, xsVar(1));
		t = find(&xsVar(1));
		if (t && (t->generation == generation)) {
			if (t->interval > 0)
				t->due = xt_now + t->interval;
			else
				remove_timer(the, t);
		}
	}
	xsEndHost(the);
	xt_run_jobs(the);
}

int xt_timer_run(txMachine *the)
{
	for (;;) {
		xtTimer *t, *due = NULL;
		for (t = timers; t; t = t->next)
			if (t->scheduled && ((int32_t)(t->due - xt_now) <= 0) && (!due || ((int32_t)(t->due - due->due) < 0)))
				due = t;
		if (!due)
			break;
		fire(the, due);
	}
	{
		xtTimer *t;
		int32_t next = -1;
		for (t = timers; t; t = t->next) {
			if (t->scheduled) {
				int32_t delta = (int32_t)(t->due - xt_now);
				if ((next < 0) || (delta < next))
					next = delta;
			}
		}
		return next;
	}
}

static const xtHostFunction functions[] = {
	{"timerSet", xs_timer_set, 3},
	{"timerRepeat", xs_timer_repeat, 2},
	{"timerSchedule", xs_timer_schedule, 3},
	{"timerClear", xs_timer_clear, 1},
	{"timerDelay", xs_timer_delay, 1},
};

void xt_timer_install(txMachine *the, txSlot *host)
{
	xt_host_functions(the, host, functions, XT_COUNT(functions));
}
