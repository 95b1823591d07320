/*
 * xtensa — what only this host has: instructions() is the number of guest instructions
 * retired since start (exact under QEMU's -icount shift=0); stackDepth() the XS stack
 * slots in use where it is called (its own call's few slots included).
 */
const host = globalThis.xtensaHost;

export function instructions() {
	return host.instructions();
}
export function stackDepth() {
	return host.stackDepth();
}
export default Object.freeze({instructions, stackDepth});
