/* XS platform header for the emulated lx106 (QEMU `sim` machine, picolibc, no threads).
 * Our platform layer (main.c) provides the machine platform hooks, chunk and slot
 * allocation (a fixed heap), module lookup and loading, promise jobs and abort. */
#ifndef SIM_XS_H
#define SIM_XS_H

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#define mxUseDefaultBuildKeys 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1
#define mxUseDefaultDebug 1
#define mxUseDefaultCStackLimit 0

#define C_PATH_MAX 128

#define mxMachinePlatform \
	void* host;

#define XS_FUNCTION_NORETURN __attribute__((noreturn))

#endif
