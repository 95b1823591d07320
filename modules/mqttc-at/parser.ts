/*
 * mqttc-at/parser: turns one decoded AT command line into a command record and its
 * arguments. Pure functions, no module state (preload-safe).
 *
 * Line shapes accepted (the "AT" prefix and the command name are case-insensitive):
 *   AT                      basic attention          -> name ""
 *   ATE0 / ATE1 / ATI       basic commands           -> name "E" / "I", value in `basic`
 *   AT+NAME                 execute form             -> kind EXEC
 *   AT+NAME?                read form                -> kind READ
 *   AT+NAME=?               test form                -> kind TEST
 *   AT+NAME=<args>          set form                 -> kind SET, args split by splitArgs()
 *
 * Arguments are separated by commas. An argument is either
 *   - quoted: "..." (or the typographic quotes U+201C/U+201D that vendor documents and
 *     copy/paste produce); inside, \" stands for " and \\ for \; any other backslash is
 *     kept literally. Only whitespace may follow the closing quote before the next comma.
 *   - unquoted: everything up to the next comma, outer spaces trimmed; may contain
 *     '=', '&', '%', spaces and any other character except ','.
 * splitArgs() can make the last of `max` arguments take the rest of the line verbatim
 * (commas included) when it is unquoted, as AT+MQTTPUB's message and AT+MQTTCONFIG's
 * password need.
 */

/** Field limits shared by both dialects, in bytes (seen in modem firmware; README, AT bounds). */
export const TOPIC_MAX = 256;
export const ID_MAX = 128;
export const USER_MAX = 128;
export const PASS_MAX = 256;
/** mqttc manual_ack bound of the dialects' clients: received QoS 1/2 messages whose
 * acknowledgement may wait for room on the serial line (engine HOLD_COUNT is above it). */
export const ACK_WAIT = 32;

export const KIND_EXEC = 0;
export const KIND_READ = 1;
export const KIND_TEST = 2;
export const KIND_SET = 3;

export interface Arg {
	/** The value, quotes removed and escapes resolved. */
	s: string;
	/** Whether the value was written in quotes. */
	q: boolean;
}

export interface Command {
	/** "" for plain AT, "E"/"I"/"Z"/... for basic commands, "+NAME" (upper case) for extended ones. */
	name: string;
	kind: number;
	/** Digits after a basic command letter ("0" for ATE0), or "" */
	basic: string;
	/** The whole line as received (without its terminator). */
	line: string;
	/** Index in `line` where the arguments of a set form start. */
	at: number;
}

const OPEN_Q1 = 0x22; // "
const OPEN_Q2 = 0x201c; // “
const OPEN_Q3 = 0x201d; // ”

function isQuote(c: number): number {
	if (c === OPEN_Q1) return 1;
	if (c === OPEN_Q2 || c === OPEN_Q3) return 2;
	return 0;
}

function isSpace(c: number): boolean {
	return c === 0x20 || c === 0x09;
}

function isNameChar(c: number): boolean {
	return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** Parses the head of a line. Returns undefined when it is not an AT command. */
export function parseLine(line: string): Command | undefined {
	let i = 0;
	const n = line.length;
	while (i < n && isSpace(line.charCodeAt(i))) i++;
	if (n - i < 2) return undefined;
	const a = line.charCodeAt(i) | 0x20, t = line.charCodeAt(i + 1) | 0x20;
	if (a !== 0x61 || t !== 0x74) return undefined;
	i += 2;
	let end = n;
	while (end > i && isSpace(line.charCodeAt(end - 1))) end--;
	if (i === end) return {name: "", kind: KIND_EXEC, basic: "", line, at: end};
	const c = line.charCodeAt(i);
	if (c === 0x2b /* + */) {
		let j = i + 1;
		while (j < end && isNameChar(line.charCodeAt(j))) j++;
		if (j === i + 1) return undefined;
		const name = "+" + line.slice(i + 1, j).toUpperCase();
		if (j === end) return {name, kind: KIND_EXEC, basic: "", line, at: end};
		const rest = line.slice(j, end);
		if (rest === "?") return {name, kind: KIND_READ, basic: "", line, at: end};
		if (rest === "=?") return {name, kind: KIND_TEST, basic: "", line, at: end};
		if (line.charCodeAt(j) === 0x3d /* = */) return {name, kind: KIND_SET, basic: "", line, at: j + 1};
		return undefined;
	}
	if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) {
		// one basic command: a letter (or &letter) and optional digits
		let j = i + 1;
		while (j < end && line.charCodeAt(j) >= 0x30 && line.charCodeAt(j) <= 0x39) j++;
		if (j !== end) return undefined;
		return {name: line.charAt(i).toUpperCase(), kind: KIND_EXEC, basic: line.slice(i + 1, end), line, at: end};
	}
	return undefined;
}

/**
 * Splits the arguments of a set form. `max` > 0 makes argument number `max` (the last
 * one) take the rest of the line verbatim when it is unquoted. Returns undefined for
 * malformed input: an unterminated quote, text after a closing quote, more than `max`
 * arguments when max > 0, or more than `limit` arguments.
 */
export function splitArgs(line: string, from: number, max = 0, limit = 32): Arg[] | undefined {
	const out: Arg[] = [];
	const n = line.length;
	let i = from;
	for (;;) {
		if (out.length >= limit) return undefined;
		while (i < n && isSpace(line.charCodeAt(i))) i++;
		const qk = i < n ? isQuote(line.charCodeAt(i)) : 0;
		if (qk) {
			i++;
			const parts: string[] = [];
			let start = i, closed = false;
			while (i < n) {
				const c = line.charCodeAt(i);
				if (c === 0x5c /* \ */ && i + 1 < n) {
					const d = line.charCodeAt(i + 1);
					if (d === 0x22 || d === 0x5c) {
						parts.push(line.slice(start, i));
						start = i + 1; // keep the escaped character itself
						i += 2;
						continue;
					}
				}
				const k = isQuote(c);
				if (k && k === qk) {
					closed = true;
					break;
				}
				i++;
			}
			if (!closed) return undefined;
			parts.push(line.slice(start, i));
			out.push({s: parts.length === 1 ? parts[0] : parts.join(""), q: true});
			i++;
			while (i < n && isSpace(line.charCodeAt(i))) i++;
			if (i === n) return out;
			if (line.charCodeAt(i) !== 0x2c) return undefined;
			i++;
			if (max > 0 && out.length >= max) return undefined;
			continue;
		}
		let j: number;
		if (max > 0 && out.length === max - 1) j = n;
		else {
			j = line.indexOf(",", i);
			if (j < 0) j = n;
		}
		let e = j;
		while (e > i && isSpace(line.charCodeAt(e - 1))) e--;
		out.push({s: line.slice(i, e), q: false});
		if (j >= n) return out;
		i = j + 1;
		if (max > 0 && out.length >= max) return undefined;
	}
}

/** An unquoted decimal integer within [min, max], else -1 (all ranges used are >= 0). */
export function argInt(a: Arg | undefined, min: number, max: number): number {
	if (!a || a.q) return -1;
	const s = a.s, n = s.length;
	if (n === 0 || n > 6) return -1;
	let v = 0;
	for (let i = 0; i < n; i++) {
		const c = s.charCodeAt(i) - 0x30;
		if (c < 0 || c > 9) return -1;
		v = v * 10 + c;
	}
	return v < min || v > max ? -1 : v;
}

/** Number of bytes `s` takes in UTF-8. */
export function utf8Length(s: string): number {
	let n = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c < 0x80) n += 1;
		else if (c < 0x800) n += 2;
		else if (c >= 0xd800 && c <= 0xdbff) {
			n += 4;
			i++;
		} else n += 3;
	}
	return n;
}

/** A quoted string argument of at most `maxBytes` UTF-8 bytes (dialect A: strings must be quoted). */
export function argQuoted(a: Arg | undefined, maxBytes: number, allowEmpty = true): string | undefined {
	if (!a || !a.q) return undefined;
	if (!allowEmpty && a.s.length === 0) return undefined;
	return utf8Length(a.s) <= maxBytes ? a.s : undefined;
}

/** A string argument, quoted or not, of at most `maxBytes` UTF-8 bytes (dialect B). */
export function argText(a: Arg | undefined, maxBytes: number, allowEmpty = true): string | undefined {
	if (!a) return undefined;
	if (!allowEmpty && a.s.length === 0) return undefined;
	return utf8Length(a.s) <= maxBytes ? a.s : undefined;
}

/** Whether a topic holds a wildcard (+ or #): refused where a topic name, not a filter, is meant. */
export function hasWildcard(topic: string): boolean {
	return topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0;
}
