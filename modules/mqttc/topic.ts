/*
 * Topic names and filters, checked once when the app hands them over (MQTT 3.1.1 section
 * 4.7): a bad one makes the call return null with a reason instead of reaching the broker,
 * which would close the connection.
 */

import { toUtf8, isUtf8 } from "mqttc/utf8";

/** The longest string MQTT can carry in a length-prefixed field. */
export const MAX_STRING_BYTES = 65535;

/** UTF-8 bytes of a field (client id, user name, topic...), or a reason it cannot be sent. */
export function fieldBytes(value: unknown, what: string): Uint8Array | string {
	if (typeof value !== "string") return `${what} must be a string`;
	const bytes = toUtf8(value);
	if (bytes.length > MAX_STRING_BYTES) return `${what} longer than ${MAX_STRING_BYTES} bytes`;
	if (!isUtf8(bytes, 0, bytes.length, false)) return `${what} contains U+0000 or a lone surrogate`;
	return bytes;
}

/** A publish topic as bytes, or the reason it is not one. */
export function topicNameBytes(topic: unknown): Uint8Array | string {
	const bytes = fieldBytes(topic, "topic");
	if (typeof bytes === "string") return bytes;
	if (!bytes.length) return "topic is empty";
	for (let i = 0; i < bytes.length; i++) {
		const c = bytes[i];
		if (c === 0x23 || c === 0x2B) return "wildcards are not allowed in a publish topic";
	}
	return bytes;
}

/** A subscription filter as bytes, or the reason it is not one. */
export function topicFilterBytes(filter: unknown): Uint8Array | string {
	const bytes = fieldBytes(filter, "topic filter");
	if (typeof bytes === "string") return bytes;
	if (!bytes.length) return "topic filter is empty";
	for (let i = 0; i < bytes.length; i++) {
		const c = bytes[i];
		const alone = (i === 0 || bytes[i - 1] === 0x2F) && (i === bytes.length - 1 || bytes[i + 1] === 0x2F);
		if (c === 0x2B && !alone) return "'+' must fill a whole topic level";
		if (c === 0x23 && (!alone || i !== bytes.length - 1)) return "'#' must be the last level, alone";
	}
	return bytes;
}
