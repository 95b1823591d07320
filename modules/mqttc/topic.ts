/*
 * Topic names and filters, checked once when the app hands them over (MQTT 3.1.1 section
 * 4.7): a bad one makes the call return null with a reason instead of reaching the broker,
 * which would close the connection. The checks are the engine's string operations, and a
 * publish topic is checked and encoded once: the client keeps the encoded field.
 */

import { toUtf8, isMqttString } from "mqttc/utf8";

/** The longest string MQTT can carry in a length-prefixed field. */
export const MAX_STRING_BYTES = 65535;

/** UTF-8 bytes of a field (client id, user name, topic...), or a reason it cannot be sent. */
export function fieldBytes(value: unknown, what: string): Uint8Array | string {
	if (typeof value !== "string") return `${what} must be a string`;
	if (!isMqttString(value)) return `${what} contains U+0000 or a lone surrogate`;
	const bytes = toUtf8(value);
	if (bytes.length > MAX_STRING_BYTES) return `${what} longer than ${MAX_STRING_BYTES} bytes`;
	return bytes;
}

/**
 * A publish topic as it goes on the wire, its two length bytes included, or the reason it
 * is not one.
 */
export function topicField(topic: unknown): Uint8Array | string {
	const bytes = fieldBytes(topic, "topic");
	if (typeof bytes === "string") return bytes;
	if (!bytes.length) return "topic is empty";
	const name = topic as string;
	if (name.indexOf("#") >= 0 || name.indexOf("+") >= 0) return "wildcards are not allowed in a publish topic";
	const field = new Uint8Array(2 + bytes.length);
	field[0] = bytes.length >> 8;
	field[1] = bytes.length & 0xFF;
	field.set(bytes, 2);
	return field;
}

/** A subscription filter as bytes, or the reason it is not one. */
export function topicFilterBytes(filter: unknown): Uint8Array | string {
	const bytes = fieldBytes(filter, "topic filter");
	if (typeof bytes === "string") return bytes;
	if (!bytes.length) return "topic filter is empty";
	// Each level is whole: '+' alone, '#' alone and last.
	const levels = (filter as string).split("/");
	for (let i = 0; i < levels.length; i++) {
		const level = levels[i];
		if (level.length > 1 && (level.indexOf("+") >= 0 || level.indexOf("#") >= 0))
			return level.indexOf("#") >= 0 ? "'#' must be the last level, alone" : "'+' must fill a whole topic level";
		if (level === "#" && i !== levels.length - 1) return "'#' must be the last level, alone";
	}
	return bytes;
}
