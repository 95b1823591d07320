// @ts-check
/**
 * Parent <-> guest protocol of the desktop XS host (mirror of hosts/xs/guest/bridge.js).
 *
 * Parent -> guest (one xsnap command = one XS turn), little-endian:
 *   u8 kind | u32 id | i32 value | f64 now (virtual clock, NaN in real time) | payload
 * Guest -> parent (the turn's reply, or a synchronous `issueCommand` from the guest):
 *   a sequence of records  u8 op | u32 id | u32 length | payload[length]
 */
export const HEADER = 17;
export const RECORD = 9;

/** parent -> guest message kinds */
export const K = Object.freeze({
	INIT: 0, CONNECTED: 1, DATA: 2, SENT: 3, PEER_CLOSED: 4, ERROR: 5, TIMER: 6, CALL: 7, START: 8, NOP: 9,
	// the ECMA-419 TCP socket (guest/tcp419.js): esp32 (lwIP) events; lin's failed OS socket and poll
	TCP_CONNECTED: 10, TCP_INPUT: 11, TCP_SENT: 12, TCP_FAILED: 13, TCP_POLL: 14, TCP_DELIVER: 15,
});

/** K.TCP_POLL value bits: what the Linux simulator's 20 ms select() and read() found */
export const POLL = Object.freeze({ WRITABLE: 1, DATA: 2, EOF: 4, ERROR: 8 });
/** K.TCP_INPUT value bits, after the payload's bytes: lwIP's tcpReceive(NULL), its tcpError */
export const INPUT = Object.freeze({ END: 1, ERROR: 2 });

/** guest -> parent record ops */
export const OP = Object.freeze({
	TRACE: 1, SOCK_OPEN: 2, SOCK_WRITE: 3, SOCK_CLOSE: 4, TIMER_SET: 5, TIMER_UNSCHEDULE: 6,
	TIMER_CLEAR: 7, RESULT: 8, ABORT: 9, DELAY: 10, CRYPT: 11, FILE: 12,
	// the ECMA-419 TCP socket: its counters at the end of a turn; a message lwIP's tcpTrigger posts
	TCP_STATE: 13, TCP_POST: 14,
	// the ECMA-419 TLS socket (guest/tls419.js): a call of its parent half (hosts/xs/tls419.mjs)
	TLS: 15,
});

/**
 * @param {number} kind @param {number} id @param {number} value @param {number} now
 * @param {Uint8Array} [payload]
 */
export function encodeMessage(kind, id, value, now, payload) {
	const length = payload ? payload.length : 0;
	const message = Buffer.allocUnsafe(HEADER + length);
	message.writeUInt8(kind, 0);
	message.writeUInt32LE(id >>> 0, 1);
	message.writeInt32LE(value | 0, 5);
	message.writeDoubleLE(now, 9);
	if (payload)
		message.set(payload, HEADER);
	return message;
}

/**
 * @param {Uint8Array} bytes
 * @returns {Generator<{op: number, id: number, payload: Uint8Array}>}
 */
export function* decodeRecords(bytes) {
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	let at = 0;
	while (at + RECORD <= bytes.length) {
		const op = view.getUint8(at);
		const id = view.getUint32(at + 1, true);
		const length = view.getUint32(at + 5, true);
		const start = at + RECORD;
		if (start + length > bytes.length)
			throw new Error(`xs host protocol error: record of ${length} bytes overruns the reply`);
		yield { op, id, payload: bytes.subarray(start, start + length) };
		at = start + length;
	}
	if (at !== bytes.length)
		throw new Error("xs host protocol error: trailing bytes in reply");
}
