/* QEMU's Xtensa semihosting (simcall): a2 = call, a3..a6 = arguments; result in a2,
 * the host's errno in a3. File descriptors are the host's: 1 and 2 are QEMU's
 * stdout and stderr, 3 is the socketpair the Node side gives us. */
#ifndef XT_SEMIHOST_H
#define XT_SEMIHOST_H

#include <stdint.h>

#define XT_SYS_EXIT 1
#define XT_SYS_READ 3
#define XT_SYS_WRITE 4
#define XT_SYS_OPEN 5
#define XT_SYS_CLOSE 6
#define XT_SYS_LSEEK 19
#define XT_SYS_SELECT_ONE 29

#define XT_SELECT_READ 1

int xt_simcall(int call, int a, int b, int c, int d);

void xt_exit(int code) __attribute__((noreturn));
int xt_read(int fd, void *buffer, int size);
int xt_write(int fd, const void *buffer, int size);
int xt_open(const char *path, int flags);
int xt_close(int fd);
int xt_file_size(int fd);
/* 1 when fd is readable within `ms` (negative: wait forever), 0 on timeout. */
int xt_wait_readable(int fd, int ms);

/* CCOUNT runs at the lx106 sim core's 40 MHz; under -icount shift=0 one instruction
 * takes 1 ns of virtual time, so one tick is 25 instructions. */
#define XT_INSTRUCTIONS_PER_TICK 25
uint32_t xt_ccount(void);
/* Instructions retired since start, to 25 instructions. */
#define xt_instructions() ((double)xt_ccount() * XT_INSTRUCTIONS_PER_TICK)

#endif
