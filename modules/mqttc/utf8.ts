/*
 * UTF-8 conversion on XS. Strings become bytes once, when they enter the client, and bytes
 * become strings once, when they leave it; nothing is built a character at a time.
 */

/** A string as UTF-8 bytes. */
export function toUtf8(value: string): Uint8Array {
	return new Uint8Array(ArrayBuffer.fromString(value));
}

/** Any payload the app hands over, as bytes (strings as UTF-8; buffers are not copied). */
export function toBytes(value: string | ArrayBuffer | ArrayBufferView): Uint8Array | undefined {
	if (typeof value === "string") return toUtf8(value);
	if (value instanceof ArrayBuffer) return new Uint8Array(value);
	if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
	return undefined;
}

/**
 * Whether bytes[start, end) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). With `allowNul` false, U+0000 is refused too, as
 * MQTT requires of topic names and other strings [MQTT-1.5.3-2].
 */
export function isUtf8(bytes: Uint8Array, start: number, end: number, allowNul: boolean): boolean {
	let i = start;
	while (i < end) {
		const c = bytes[i];
		if (c < 0x80) {
			if (c === 0 && !allowNul) return false;
			i++;
			continue;
		}
		let need: number;
		let min: number;
		let code: number;
		if ((c & 0xE0) === 0xC0) { need = 1; min = 0x80; code = c & 0x1F; }
		else if ((c & 0xF0) === 0xE0) { need = 2; min = 0x800; code = c & 0x0F; }
		else if ((c & 0xF8) === 0xF0) { need = 3; min = 0x10000; code = c & 0x07; }
		else return false;
		if (i + need >= end) return false; // truncated sequence
		for (let k = 1; k <= need; k++) {
			const b = bytes[i + k];
			if ((b & 0xC0) !== 0x80) return false;
			code = (code << 6) | (b & 0x3F);
		}
		if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
		i += need + 1;
	}
	return true;
}

/** bytes[start, end) as a string; the caller has checked that they are UTF-8. */
export function fromUtf8(bytes: Uint8Array, start: number, end: number): string {
	return String.fromArrayBuffer(bytes.slice(start, end).buffer);
}
