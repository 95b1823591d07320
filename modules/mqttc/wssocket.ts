/*
 * The WebSocket that mqttc/ws hands the link: a LinkSocket over the inner socket (Socket,
 * or the TLS transport's). Upgrade answer checked, then each write() one binary frame,
 * masked in place with a random key by the SDK's native Logical.xor and unmasked after (the
 * outbox keeps its payload); arriving frames taken apart as their bytes come (a packet may
 * span frames, a frame carry several packets or more than rxSize: payload bytes go on as
 * data, whatever the boundaries). Ping answered, close: -1; what RFC 6455 forbids of a
 * server: -2, with the reason in `why`.
 */

import Logical from "logical";
import { frameFault, frameHeader } from "mqttc/wsframe";
import type { LinkSocket } from "mqttc/types";

/** Header bytes of a frame we send, at most: 2, 8 of length, 4 of mask. */
const HEADER_MAX = 14;
/** The upgrade answer may take this many bytes, at most. */
const ANSWER_LIMIT = 4096;

export class WsSocket implements LinkSocket {
	declare callback: (message: number, value?: number) => void;
	declare inner: LinkSocket;
	/** Why the connection failed or was ended by us, for the link's error event. */
	declare why: string | undefined;
	/** 0 upgrading, 1 open, 2 ended. */
	declare state: number;
	/** The upgrade answer's check (mqttc/ws): undefined, or why it is refused. */
	declare check: (answer: string) => string | undefined;
	/** The upgrade answer so far. */
	declare answer: Uint8Array; declare answered: number;
	/** The frame header being read: its bytes, how many are in, how many it has. */
	declare head: Uint8Array; declare have: number; declare need: number;
	/** Payload bytes still to come in the current frame, and its opcode. */
	declare left: number; declare opcode: number;
	/** A data message spans frames (continuation frames may follow). */
	declare fragmented: boolean;
	/** A control frame's payload (at most 125 bytes) as it comes. */
	declare control: Uint8Array; declare controlAt: number;
	/** Payload bytes for the link, not yet read. */
	declare data: Uint8Array[]; declare dataBytes: number;
	/** The mask key of the frame being written, in its four rotations (a part that starts at
	 * payload offset o is masked with rotation o % 4). */
	declare keys: Uint8Array[]; declare key: DataView;

	/** `request`: the upgrade; `check`: whether its answer accepts it. */
	constructor(inner: LinkSocket, request: string, check: (answer: string) => string | undefined) {
		this.inner = inner;
		this.why = undefined;
		this.state = 0;
		this.answer = new Uint8Array(ANSWER_LIMIT);
		this.answered = -1;                     // -1 until the inner socket connects
		this.head = new Uint8Array(14);
		this.have = 0;
		this.need = 2;
		this.left = 0;
		this.opcode = 0;
		this.fragmented = false;
		this.control = new Uint8Array(125);
		this.controlAt = 0;
		this.data = [];
		this.dataBytes = 0;
		const twice = new ArrayBuffer(8);
		this.key = new DataView(twice);
		this.keys = [new Uint8Array(twice, 0, 4), new Uint8Array(twice, 1, 4), new Uint8Array(twice, 2, 4), new Uint8Array(twice, 3, 4)];
		this.callback = () => {};
		this.check = check;
		// Nothing may escape a socket callback: what throws here (a write to a socket the
		// simulator called connected but was refused, an answer that is not text) ends it.
		inner.callback = (message: number, value?: number) => {
			try {
				if (this.state === 2) return;
				if (message === 1 && this.state === 0) {
					this.answered = 0;                  // connected: the answer may come
					inner.write(ArrayBuffer.fromString(request));
				}
				else if (message === 2) this.received(new Uint8Array(inner.read(ArrayBuffer)));
				else if (message === 3 && this.state === 1) this.callback(3, value);
				else if (message < 0) {
					// Before the inner socket connected, its own failure (refused, TLS) is the reason.
					if (this.state === 0 && this.answered >= 0) this.end(`WebSocket upgrade: connection ${message === -1 ? "closed" : "failed"} before the answer`);
					else if (this.state === 0) this.callback(-2);
					else this.callback(message);
				}
			}
			catch (e) {
				if (this.state !== 2) this.end(`WebSocket: ${(e as Error)?.message ?? e}`);
			}
		};
	}

	/** The payload bytes that came, as one buffer (the link reads once per message 2). */
	read(_type: typeof ArrayBuffer): ArrayBuffer {
		const data = this.data;
		const count = data.length;
		let bytes: Uint8Array;
		if (count === 1) bytes = data[0];
		else {
			bytes = new Uint8Array(this.dataBytes);
			for (let i = 0, at = 0; i < count; at += data[i++].length) bytes.set(data[i], at);
		}
		data.length = 0;
		this.dataBytes = 0;
		const buffer = bytes.buffer as ArrayBuffer;
		return bytes.byteOffset === 0 && bytes.length === buffer.byteLength ? buffer : buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
	}

	/** One binary frame of the parts (the link's packet or its pieces), all or nothing; with
	 * no argument, the room for a frame's payload. */
	write(...parts: (ArrayBuffer | ArrayBufferView | number)[]): number | void {
		if (parts.length === 0) {
			const room = this.inner.write() as number;
			return room > HEADER_MAX ? room - HEADER_MAX : 0;
		}
		if (this.state !== 1) throw new Error("WebSocket not open");
		return this.frame(0x82, parts);
	}

	close(): void {
		if (this.state === 1) this.sendControl(0x88, [0x03, 0xE8]);      // close, 1000: normal
		this.state = 2;
		this.inner.close();
	}

	/** A control frame, if the socket has room: without it the TCP close says it for a close,
	 * and the next ping gets its pong (RFC 6455 5.5.3). */
	private sendControl(first: number, parts: (ArrayBuffer | ArrayBufferView | number)[]): void {
		try {
			this.frame(first, parts);
		}
		catch {
			// no room
		}
	}

	/** Writes a frame (`first`: FIN and opcode) carrying `parts`, masked. */
	private frame(first: number, parts: (ArrayBuffer | ArrayBufferView | number)[]): number | void {
		let length = 0;
		for (let i = 0; i < parts.length; i++) {
			const part = parts[i];
			length += typeof part === "number" ? 1 : part.byteLength;
		}
		// The key twice in 8 bytes: its rotation r (for a part at payload offset r mod 4) is
		// the view keys[r] of bytes r..r+3.
		const key = (Math.random() * 0x100000000) >>> 0;
		this.key.setUint32(0, key);
		this.key.setUint32(4, key);
		const keys = this.keys;
		const header = frameHeader(first, length, keys[0]);
		const masked = header.concat(parts);
		this.mask(masked, header.length);
		try {
			return this.inner.write(...masked);
		}
		finally {
			this.mask(masked, header.length);          // the parts are the link's again
		}
	}

	/** XORs the parts from `from` on with the key, in place (numbers in the array). */
	private mask(parts: (ArrayBuffer | ArrayBufferView | number)[], from: number): void {
		const keys = this.keys;
		for (let i = from, offset = 0; i < parts.length; i++) {
			const part = parts[i];
			if (typeof part === "number") {
				parts[i] = (part ^ keys[offset & 3][0]) & 0xFF;
				offset++;
			}
			else if (part.byteLength !== 0) {
				Logical.xor(part, keys[offset & 3]);
				offset += part.byteLength;
			}
		}
	}

	/** Bytes from the inner socket: the upgrade answer, then frames. */
	private received(bytes: Uint8Array): void {
		let at = 0;
		if (this.state === 0) {
			at = this.upgraded(bytes);
			if (at < 0) return;
		}
		this.frames(bytes, at);
		if (this.dataBytes !== 0 && this.state === 1) this.callback(2, this.dataBytes);
	}

	/** Takes the upgrade answer from `bytes`; returns where the frames begin, or -1. */
	private upgraded(bytes: Uint8Array): number {
		const take = Math.min(bytes.length, ANSWER_LIMIT - this.answered);
		this.answer.set(bytes.subarray(0, take), this.answered);
		const before = this.answered;
		this.answered += take;
		const answer = this.answer.subarray(0, this.answered);
		let end = -1;
		for (let cr = answer.indexOf(13, before > 3 ? before - 3 : 0); cr >= 0 && cr + 3 < answer.length; cr = answer.indexOf(13, cr + 1))
			if (answer[cr + 1] === 10 && answer[cr + 2] === 13 && answer[cr + 3] === 10) {
				end = cr + 4;
				break;
			}
		if (end < 0) {
			if (this.answered === ANSWER_LIMIT) this.end(`WebSocket upgrade: an answer longer than ${ANSWER_LIMIT} bytes`);
			return -1;
		}
		const why = this.check(String.fromArrayBuffer(answer.slice(0, end).buffer));
		if (why !== undefined) {
			this.end(why);
			return -1;
		}
		this.state = 1;
		this.answer = new Uint8Array(0);         // the 4 KB go
		this.callback(1);
		return this.state === 1 ? end - before : -1;
	}

	/** Takes frames apart from `bytes[at...]`: payload to `data`, control frames answered. */
	private frames(bytes: Uint8Array, at: number): void {
		const end = bytes.length;
		while (at < end && this.state === 1) {
			if (this.left === 0 && this.need !== 0) {
				const head = this.head;
				while (this.have < this.need && at < end) head[this.have++] = bytes[at++];    // 14 bytes at most, per frame
				if (this.have < this.need) return;
				if (this.have === 2) {
					const size = head[1] & 0x7F;
					if (head[1] & 0x80) return this.end("WebSocket: a masked frame from the server");
					this.need = size === 126 ? 4 : size === 127 ? 10 : 2;
					if (this.need > 2) continue;
				}
				if (!this.header()) return;
				continue;
			}
			const take = Math.min(this.left, end - at);
			if (this.opcode === 2) {
				this.data.push(bytes.subarray(at, at + take));
				this.dataBytes += take;
			}
			else {
				this.control.set(bytes.subarray(at, at + take), this.controlAt);
				this.controlAt += take;
			}
			at += take;
			this.left -= take;
			if (this.left === 0) {
				this.need = 2;
				if (this.opcode !== 2) this.controlled();
			}
		}
	}

	/** A whole frame header is in: checks it; false when it ended the connection. */
	private header(): boolean {
		const head = this.head;
		const fin = head[0] & 0x80, opcode = head[0] & 0x0F, size = head[1] & 0x7F;
		let length = size;
		if (size === 126) length = (head[2] << 8) | head[3];
		else if (size === 127) {
			if (head[2] | head[3] | head[4] | head[5]) return this.end("WebSocket: a frame of 4 GB or more"), false;
			length = ((head[6] << 24) >>> 0) + (head[7] << 16) + (head[8] << 8) + head[9];
		}
		this.have = 0;
		this.need = 0;
		const why = frameFault(head[0], length, this.fragmented);
		if (why !== undefined) return this.end(`WebSocket: ${why}`), false;
		if (opcode < 8) this.fragmented = !fin;
		this.opcode = opcode >= 8 ? opcode : 2;
		this.left = length;
		this.controlAt = 0;
		if (length === 0) {
			this.need = 2;
			if (opcode >= 8) this.controlled();
		}
		return this.state === 1;
	}

	/** A whole control frame: ping answered with pong, close ends the link. */
	private controlled(): void {
		const payload = this.control.subarray(0, this.controlAt);
		if (this.opcode === 9) this.sendControl(0x8A, [payload.slice()]);     // pong
		else if (this.opcode === 8) {
			const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
			this.sendControl(0x88, payload.length >= 2 ? [payload[0], payload[1]] : []);
			this.state = 2;
			this.why = `WebSocket closed by the server (${code})`;
			this.inner.close();
			this.callback(-1);
		}
	}

	/** Ends the connection with a reason (-2 to the link). */
	private end(why: string): void {
		this.why = why;
		this.state = 2;
		try {
			this.inner.close();
		}
		catch {
			// gone already
		}
		this.callback(-2);
	}
}
