/* What the platform (main.c) and the host modules (socket.c, timer.c, globals.c) share. */
#ifndef XT_HOST_H
#define XT_HOST_H

#include "xsAll.h"
#include "xs.h"
#include "channel.h"

/* The guest clock: ms since start, as the last frame from the host said. */
extern uint32_t xt_now;
/* Date.now() at the guest's start (from the host's configuration). */
extern double xt_epoch;

/* socket.c */
void xt_socket_install(txMachine *the, txSlot *host);
void xt_socket_frame(txMachine *the, xtFrame *frame);
int xt_socket_count(void);
void xt_socket_flush(txMachine *the);

/* timer.c */
void xt_timer_install(txMachine *the, txSlot *host);
/* Runs every timer due at xt_now; returns ms until the next one, or -1 when none. */
int xt_timer_run(txMachine *the);
int xt_timer_count(void);

/* globals.c: trace, ArrayBuffer.fromString, String.fromArrayBuffer, the `xtensa` module's functions */
void xt_globals_install(txMachine *the, txSlot *host);

/* main.c: run promise jobs queued by the last turn */
void xt_run_jobs(txMachine *the);

#endif
