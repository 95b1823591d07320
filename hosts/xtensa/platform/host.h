/* What the platform (main.c) and the host modules (socket.c, timer.c, file.c, crc.c, ...) share. */
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

/* storage.c: requests on the storage channel (channel.h) */
typedef struct {
	int32_t status;
	uint32_t value, length;
} xtReply;
void xt_storage_begin(uint32_t op, uint32_t handle, uint32_t a, uint32_t b, uint32_t length);
void xt_storage_reply(xtReply *reply);
void xt_storage_payload(xtReply *reply, void *into, uint32_t length);
void xt_storage_simple(uint32_t op, uint32_t handle, uint32_t a, uint32_t b, xtReply *reply);
void xt_storage_path(txMachine *the, uint32_t op, uint32_t handle, uint32_t a, txSlot *path, xtReply *reply);

/* file.c, filedir.c: the `file` module's File; Iterator and Directory */
void xt_file_install(txMachine *the, txSlot *host);
void xt_filedir_install(txMachine *the, txSlot *host);

/* crc.c: the `crc` module's CRC8 and CRC16 */
void xt_crc_install(txMachine *the, txSlot *host);

/* globals.c: trace, ArrayBuffer.fromString, String.fromArrayBuffer, the `xtensa` module's functions */
void xt_globals_install(txMachine *the, txSlot *host);
/* What a module puts on the host object: host[name] = a host function or, with a
 * destructor, a class whose constructor and instances are host ones. */
typedef struct {
	const char *name;
	txCallback callback;
	int length;
	txDestructor destructor;
} xtHostFunction;
#define XT_COUNT(table) ((int)(sizeof(table) / sizeof((table)[0])))
/* uses xsVar(1) and xsVar(2), the caller's scratch slots */
void xt_host_functions(txMachine *the, txSlot *host, const xtHostFunction *functions, int count);

/* main.c: run promise jobs queued by the last turn */
void xt_run_jobs(txMachine *the);

#endif
