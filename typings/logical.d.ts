/*
 * The Moddable SDK's `logical` module (modules/data/logical): in-place bitwise operations on
 * buffers, in C. `src` repeats when shorter than `dst` (a WebSocket mask: 4 bytes).
 */
declare module "logical" {
	export default class Logical {
		static xor(dst: ArrayBuffer | ArrayBufferView, src: ArrayBuffer | ArrayBufferView | string | number, count?: number): void;
		static and(dst: ArrayBuffer | ArrayBufferView, src: ArrayBuffer | ArrayBufferView | string | number, count?: number): void;
		static or(dst: ArrayBuffer | ArrayBufferView, src: ArrayBuffer | ArrayBufferView | string | number, count?: number): void;
		static not(dst: ArrayBuffer | ArrayBufferView, count?: number): void;
	}
}
