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

/** XS's String.fromArrayBuffer (the typings lack its offset and length arguments). */
export type FromArrayBuffer = (buffer: ArrayBufferLike, offset: number, length: number) => string;

/**
 * `length` bytes of `buffer` from `offset` as a string when they are text that survives the
 * round trip to a string and back byte for byte, else undefined. XS's String.fromArrayBuffer
 * throws on malformed UTF-8 and stops at a NUL byte (XS strings end there). A string as long
 * as the byte count is all ASCII and whole, the common case; another one is checked by
 * isText(). (The decoder does the same inline for each received PUBLISH.)
 */
export function textAt(buffer: ArrayBufferLike, offset: number, length: number): string | undefined {
	let text: string;
	try {
		text = (String.fromArrayBuffer as FromArrayBuffer)(buffer, offset, length);
	}
	catch {
		return undefined;
	}
	if (text.length !== length && !isText(text, length)) return undefined;
	return text;
}

/** Whether `text`, converted from `length` bytes, holds all of them: encoded back once, it
 * must be as long (a NUL byte cut it short otherwise). */
export function isText(text: string, length: number): boolean {
	return ArrayBuffer.fromString(text).byteLength === length;
}

/** bytes[start, end) as text, as textAt() decides. */
export function textOf(bytes: Uint8Array, start: number, end: number): string | undefined {
	return textAt(bytes.buffer, bytes.byteOffset + start, end - start);
}

/** Whether a string can be an MQTT string: no U+0000 and no lone surrogate [MQTT-1.5.3]. */
export function isMqttString(value: string): boolean {
	return value.indexOf("\u0000") < 0 && !/[\uD800-\uDFFF]/u.test(value);
}
