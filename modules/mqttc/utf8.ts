/*
 * Text at the client's edges, with the engine's native operations only: strings become
 * bytes once when they enter (ArrayBuffer.fromString) and bytes become strings once when
 * they leave (String.fromArrayBuffer), never a character or a byte at a time in JS.
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

type FromArrayBuffer = (buffer: ArrayBufferLike, offset?: number, length?: number) => string;

/**
 * bytes[start, end) as a string when they are text that survives the round trip to a
 * string and back byte for byte, else undefined. XS's String.fromArrayBuffer throws on
 * malformed UTF-8 and stops at a NUL byte (XS strings end there). A string as long as the
 * byte count is all ASCII and whole, the common case; another one is encoded back once to
 * see that nothing was cut off.
 */
export function textOf(bytes: Uint8Array, start: number, end: number): string | undefined {
	let text: string;
	try {
		text = (String.fromArrayBuffer as FromArrayBuffer)(bytes.buffer, bytes.byteOffset + start, end - start);
	}
	catch {
		return undefined;
	}
	if (text.length !== end - start && ArrayBuffer.fromString(text).byteLength !== end - start) return undefined;
	return text;
}

/** Whether a string can be an MQTT string: no U+0000 and no lone surrogate [MQTT-1.5.3]. */
export function isMqttString(value: string): boolean {
	return value.indexOf("\u0000") < 0 && !/[\uD800-\uDFFF]/u.test(value);
}
