/* Semihosting calls and what picolibc needs from a "board": stdout/stderr and _exit. */
#include <stdio.h>
#include <string.h>
#include "semihost.h"

int xt_simcall(int call, int a, int b, int c, int d)
{
	register int a2 __asm__("a2") = call;
	register int a3 __asm__("a3") = a;
	register int a4 __asm__("a4") = b;
	register int a5 __asm__("a5") = c;
	register int a6 __asm__("a6") = d;
	__asm__ volatile ("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5), "r"(a6) : "memory");
	return a2;
}

void xt_exit(int code)
{
	fflush(stdout);
	for (;;)
		xt_simcall(XT_SYS_EXIT, code, 0, 0, 0);
}

void _exit(int code)
{
	for (;;)
		xt_simcall(XT_SYS_EXIT, code, 0, 0, 0);
}

int xt_read(int fd, void *buffer, int size)
{
	return xt_simcall(XT_SYS_READ, fd, (int)buffer, size, 0);
}

int xt_write(int fd, const void *buffer, int size)
{
	return xt_simcall(XT_SYS_WRITE, fd, (int)buffer, size, 0);
}

int xt_open(const char *path, int flags)
{
	return xt_simcall(XT_SYS_OPEN, (int)path, flags, 0, 0);
}

int xt_close(int fd)
{
	return xt_simcall(XT_SYS_CLOSE, fd, 0, 0, 0);
}

int xt_file_size(int fd)
{
	int size = xt_simcall(XT_SYS_LSEEK, fd, 0, 2, 0);
	xt_simcall(XT_SYS_LSEEK, fd, 0, 0, 0);
	return size;
}

int xt_wait_readable(int fd, int ms)
{
	int32_t tv[2];
	if (ms < 0)
		return xt_simcall(XT_SYS_SELECT_ONE, fd, XT_SELECT_READ, 0, 0) > 0;
	tv[0] = ms / 1000;
	tv[1] = (ms % 1000) * 1000;
	return xt_simcall(XT_SYS_SELECT_ONE, fd, XT_SELECT_READ, (int)tv, 0) > 0;
}

uint32_t xt_ccount(void)
{
	uint32_t c;
	__asm__ volatile ("rsr %0, ccount" : "=a"(c));
	return c;
}

/* stdout and stderr: unbuffered, one semihosting write per character would be slow,
 * so lines are collected and written whole. */
#define LINE 256
static char out_line[2][LINE];
static int out_used[2];

static void flush_fd(int which)
{
	if (out_used[which]) {
		xt_write(which + 1, out_line[which], out_used[which]);
		out_used[which] = 0;
	}
}

static int put_fd(int which, char c)
{
	out_line[which][out_used[which]++] = c;
	if ((c == '\n') || (out_used[which] == LINE))
		flush_fd(which);
	return (unsigned char)c;
}

static int put_out(char c, FILE *f) { (void)f; return put_fd(0, c); }
static int put_err(char c, FILE *f) { (void)f; return put_fd(1, c); }
static int flush_out(FILE *f) { (void)f; flush_fd(0); return 0; }
static int flush_err(FILE *f) { (void)f; flush_fd(1); return 0; }

static FILE xt_stdout = FDEV_SETUP_STREAM(put_out, NULL, flush_out, _FDEV_SETUP_WRITE);
static FILE xt_stderr = FDEV_SETUP_STREAM(put_err, NULL, flush_err, _FDEV_SETUP_WRITE);
FILE *const stdout = &xt_stdout;
FILE *const stderr = &xt_stderr;
FILE *const stdin = NULL;
