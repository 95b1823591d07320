/* Entry point and exception vectors for the emulated lx106 (call0 ABI).
 * _reset sets the stack pointer and VECBASE, clears .bss and runs main().
 * Any exception jumps to xt_exception(cause, pc, vaddr), which reports and exits. */

	.section .reset, "ax"
	.global _reset
	.align 4
_reset:
	j	start
	.literal_position
	.align 4
start:
	movi	a1, __stack
	movi	a2, _vectors
	wsr	a2, vecbase
	movi	a2, 0
	wsr	a2, intenable
	movi	a2, 0x20		/* PS: user vector mode, EXCM clear, so faults report EPC1 */
	wsr	a2, ps
	rsync
	call0	xt_start
1:	j	1b

/* VECBASE-relative offsets of the lx106 vectors: user (0x50) and kernel (0x30) exceptions,
 * double exception (0x70). Each saves nothing: the guest stops there. */
	.section .vectors, "ax"
	.align 1024
	.global _vectors
_vectors:
	.space 0x30
	.org 0x30
	j	fault
	.org 0x50
	j	fault
	.org 0x70
	j	fault
	.org 0x80
	.literal_position
fault:
	rsr	a2, exccause
	rsr	a3, epc1
	rsr	a4, excvaddr
	movi	a1, __stack
	movi	a0, xt_exception
	callx0	a0
2:	j	2b
