/*
 * xtensa — what only this host has: instructions() is the number of guest instructions
 * retired since start (exact under QEMU's -icount shift=0).
 */
const host = globalThis.xtensaHost;

export function instructions() {
	return host.instructions();
}
export default Object.freeze({instructions});
