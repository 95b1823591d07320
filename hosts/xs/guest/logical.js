/*
 * logical — the SDK's modules/data/logical for the desktop XS host: xor, and, or, not on a
 * buffer in place, `src` (a buffer, a string's bytes or a number's low byte) repeated over
 * `dst`, at most `count` bytes. The bytes are combined in the parent (hosts/xs/file.mjs), as
 * the device does it in C: no per-byte work is metered here. A read-only dst throws.
 */
import {callFile, bytesOf, utf8} from "xs-host/bridge";

const F_LOGICAL = 10;

function apply(op, dst, src, count) {
	const target = bytesOf(dst);
	if (!target)
		throw new TypeError("invalid buffer");
	const bytes = typeof src === "number" ? Uint8Array.of(src & 0xFF) : typeof src === "string" ? utf8(src) : bytesOf(src);
	if (!bytes)
		throw new Error("unsupported source");
	let length = target.length;
	if (count !== undefined) {
		if (!(count > 0) || count > length)
			throw new RangeError("invalid count");
		length = count | 0;
	}
	if (length === 0 || bytes.length === 0)
		return;
	const call = new Uint8Array(6 + length + bytes.length);
	call[0] = F_LOGICAL;
	call[1] = op;
	new DataView(call.buffer).setUint32(2, length, true);
	call.set(target.subarray(0, length), 6);
	call.set(bytes, 6 + length);
	target.set(callFile(call));
}

export default class Logical {
	static xor(dst, src, count) { apply(0, dst, src, count); }
	static and(dst, src, count) { apply(1, dst, src, count); }
	static or(dst, src, count) { apply(2, dst, src, count); }
	static not(dst, count) { apply(0, dst, 0xFF, count); }
}
