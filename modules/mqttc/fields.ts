/*
 * What the app hands over for the wire, checked once when it does: client id, user name and
 * password, the will, topic names and filters (MQTT 3.1.1 sections 1.5.3, 3.1.3, 4.7). A bad
 * one makes the call return null with a reason instead of reaching the broker, which would
 * close the connection. The checks are the engine's string operations, and a publish topic
 * is checked and encoded once: the client keeps the encoded field.
 */

import { toUtf8, toBytes, isMqttString } from "mqttc/utf8";
import type { ConnectFields, WillMessage } from "mqttc/packet";
import type { Payload } from "mqttc/types";

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

/** auth()'s fields into `hello` (what CONNECT says), or the reason they cannot be sent
 * (`hello` is then unchanged). An empty or absent id, name or password is none. */
export function authFields(hello: ConnectFields, clientId: unknown, username: unknown, password: unknown, cleanSession: unknown): string | undefined {
	const id = optional(clientId, "client_id");
	const user = optional(username, "username");
	const pass = typeof password === "string" || password === undefined || password === null ? optional(password, "password")
		: toBytes(password as Payload) ?? "password must be a string or bytes";
	const bad = typeof id === "string" ? id : typeof user === "string" ? user : typeof pass === "string" ? pass
		: pass !== undefined && pass.length > 65535 ? "password longer than 65535 bytes"
		: typeof cleanSession !== "boolean" ? "cleanSession must be a boolean" : undefined;
	if (bad !== undefined) return bad;
	hello.clientId = (id as Uint8Array | undefined) ?? new Uint8Array(0);
	hello.username = user as Uint8Array | undefined;
	hello.password = pass as Uint8Array | undefined;
	// A broker-assigned id only exists for a clean session [MQTT-3.1.3-7].
	hello.cleanSession = hello.clientId.length === 0 ? true : cleanSession as boolean;
	return undefined;
}

/** will()'s message (the payload copied), or the reason it cannot be sent. */
export function willMessage(topic: unknown, payload: unknown, qos: unknown, retain: unknown): WillMessage | string {
	const field = topicField(topic);
	if (typeof field === "string") return field;
	const body = toBytes(payload as Payload);
	if (!body || body.length > 65535) return "will payload must be a string or bytes of at most 65535";
	if (!(qos === 0 || qos === 1 || qos === 2)) return "will qos must be 0, 1 or 2";
	return { topic: field.subarray(2), payload: body.slice(), qos, retain: retain === true || retain === 1 };
}

/** A string field's bytes, undefined when absent (undefined, null or ""), or a reason. */
function optional(value: unknown, what: string): Uint8Array | string | undefined {
	return value === undefined || value === null || value === "" ? undefined : fieldBytes(value, what);
}

/** subscribe()'s argument, a filter and a QoS or a table of filter -> QoS, as two lists. */
export function subscriptions(topic: unknown, qos: unknown): [string[], number[]] {
	if (typeof topic === "string") return [[topic], [qos as number]];
	const topics: string[] = [];
	const levels: number[] = [];
	if (topic && typeof topic === "object") {
		for (const name in topic as Record<string, unknown>) {
			topics.push(name);
			levels.push((topic as Record<string, number>)[name]);
		}
	}
	return [topics, levels];
}

/** The filters of a SUBSCRIBE (with their QoS `levels`) or UNSUBSCRIBE as bytes, or the
 * reason one is refused, naming it. */
export function filterFields(topics: unknown[], levels: number[] | undefined): Uint8Array[] | string {
	const filters: Uint8Array[] = [];
	for (let i = 0; i < topics.length; i++) {
		const bytes = topicFilterBytes(topics[i]);
		if (typeof bytes === "string") return `${bytes}: ${topics[i]}`;
		if (levels && !(levels[i] === 0 || levels[i] === 1 || levels[i] === 2)) return `qos must be 0, 1 or 2: ${topics[i]}`;
		filters.push(bytes);
	}
	return filters;
}
