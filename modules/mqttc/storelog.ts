/*
 * The durable session's file (mqttc/store): a log of records appended as the session
 * changes, and rewritten with only what is alive when the next record would take it past
 * its bound. Written through the SDK's File (LittleFS on a device, a plain file in the
 * simulator), each append in its own open/write/close: LittleFS makes a write durable only
 * when the file is closed (or synced), atomically.
 *
 * A record: type (u8), first byte of the PUBLISH (u8), packet id (u16), body length (u32),
 * the body, then a CRC-16/CCITT of everything before it (u16), big-endian. A power cut can
 * leave the last record torn; reading stops at the first record whose length, type or CRC
 * does not hold and reports the bytes from there as unreadable; the next append first
 * overwrites them with zeros, then writes where they began. Every file starts with a START
 * record carrying the format number, so a file of anything else is unreadable from its
 * first byte (and is rewritten).
 *
 * A rewrite goes to `<name>.tmp`, closed, then renamed over the log (atomic on LittleFS and
 * POSIX): a cut leaves the old log whole, or the new one. Storage used: the log (at most
 * `size` bytes) and, during a rewrite, its copy of what is alive (at most half of it, the
 * store's capacity, plus the received QoS 2 ids).
 */

import { File } from "file";
import { CRC16 } from "crc";

export const START = 0x53, PUBLISH = 0x50, RELEASED = 0x52, DONE = 0x44, RECEIVED = 0x51, RECEIVED_RELEASED = 0x55, FORGET = 0x46;
/** Bytes of a record besides its body: header (8) and CRC (2). */
export const RECORD_OVERHEAD = 10;
/** The format of the records (the START record's id). */
const FORMAT = 1;

/** A record read back: a PUBLISH's body is its topic field and payload, `length` bytes of
 * `body` (which holds the record's CRC after them). */
export type RecordVisitor = (type: number, first: number, id: number, body: Uint8Array | undefined, length: number) => void;
/** Writes one record of a rewrite. */
export type RecordWriter = (type: number, first: number, id: number, field?: Uint8Array, payload?: Uint8Array | ArrayBuffer) => void;

export class StoreLog {
	/** The log's path, its name alone (File.rename's target), and the rewrite's path. */
	declare path: string;
	declare name: string;
	declare tmp: string;
	/** Bound of the log, bytes. */
	declare size: number;
	/** Bytes of whole records in the log now: where the next one goes. */
	declare length: number;
	/** Bytes written to storage so far (records and rewrites): the benchmark reads it. */
	declare written: number;
	/** A write failed (what follows it in the file is unknown) or the log has no START record
	 * yet: the next append rewrites it first. */
	declare broken: boolean;
	/** Ids of acknowledged messages whose DONE record waits for the next append (or the
	 * store's timer): a lost DONE only sends a message again, so it need not cost a sync of
	 * its own (on LittleFS each sync copies the file's last block to a freshly erased one). */
	declare done: number[];
	/** Bytes after the last whole record (a record torn by a power cut): the next append
	 * overwrites them with zeros first, so that no part of them can ever follow a record. */
	declare torn: number;
	private declare crc: CRC16;
	/** The header of the record being written (File copies it at once: reused). */
	private declare header: ArrayBuffer;
	private declare view: DataView;
	/** The CRC that ends it. */
	private declare trailer: ArrayBuffer;
	private declare check: DataView;

	constructor(root: string, name: string, size: number) {
		this.path = root + name + ".mq";
		this.name = name + ".mq";
		this.tmp = root + name + ".tmp";
		this.size = size;
		this.length = 0;
		this.written = 0;
		this.broken = false;
		this.torn = 0;
		this.done = [];
		this.crc = new CRC16(0x1021, 0xFFFF);
		this.header = new ArrayBuffer(8);
		this.view = new DataView(this.header);
		this.trailer = new ArrayBuffer(2);
		this.check = new DataView(this.trailer);
	}

	/** Appends one record (after the DONE records waiting in `done`), durable when this
	 * returns; rewrites the log first (`rewrite`) when they would take it past its bound.
	 * `type` 0 appends only the waiting DONE records. Throws when storage fails. */
	append(type: number, first: number, id: number, rewrite: () => void, field?: Uint8Array, payload?: Uint8Array | ArrayBuffer): void {
		const done = this.done;
		let size = RECORD_OVERHEAD * done.length + (type === 0 ? 0 : RECORD_OVERHEAD + (field === undefined ? 0 : field.length + payload!.byteLength));
		if (this.broken || this.length + size > this.size) {
			size -= RECORD_OVERHEAD * done.length;
			rewrite();                              // what is alive now: it empties `done`
		}
		if (size === 0) return;
		const file = new File(this.path, true);
		try {
			if (this.torn !== 0) this.zero(file);
			file.position = this.length;
			for (let i = 0; i < done.length; i++) this.put(file, DONE, 0, done[i]);
			if (type !== 0) this.put(file, type, first, id, field, payload);
		}
		catch (e) {
			this.broken = true;
			throw e;
		}
		finally {
			file.close();
		}
		done.length = 0;
		this.length += size;
	}

	/** Replaces the log with a START record and what `records` writes; returns its length. */
	rewrite(records: (put: RecordWriter) => void): number {
		File.delete(this.tmp);
		const file = new File(this.tmp, true);
		let length = 0;
		try {
			const put: RecordWriter = (type, first, id, field, payload) => {
				length += this.put(file, type, first, id, field, payload);
			};
			put(START, 0, FORMAT);
			records(put);
		}
		finally {
			file.close();
		}
		if (!File.rename(this.tmp, this.name)) throw new Error("rename failed");
		this.broken = false;
		this.torn = 0;
		this.done.length = 0;
		return this.length = length;
	}

	/** Overwrites the torn bytes with zeros (a type no record has: reading stops there), in
	 * writes of at most 256 bytes, before anything is appended after the last whole record. */
	private zero(file: File): void {
		const zeros = new ArrayBuffer(this.torn < 256 ? this.torn : 256);
		file.position = this.length;
		for (let left = this.torn; left > 0; left -= zeros.byteLength)
			file.write(left < zeros.byteLength ? zeros.slice(0, left) : zeros);
		this.written += this.torn;
		this.torn = 0;
	}

	/** Writes one record at the file's position; returns its size. */
	private put(file: File, type: number, first: number, id: number, field?: Uint8Array, payload?: Uint8Array | ArrayBuffer): number {
		const view = this.view;
		const body = field === undefined ? 0 : field.length + payload!.byteLength;
		view.setUint8(0, type);
		view.setUint8(1, first);
		view.setUint16(2, id);
		view.setUint32(4, body);
		const crc = this.crc;
		crc.reset();
		const check = crc.checksum(this.header);
		if (field === undefined) {
			this.check.setUint16(0, check);
			file.write(this.header, this.trailer);
		}
		else {
			crc.checksum(field);
			this.check.setUint16(0, crc.checksum(payload!));
			file.write(this.header, whole(field), whole(payload!), this.trailer);
		}
		this.written += RECORD_OVERHEAD + body;
		return RECORD_OVERHEAD + body;
	}

	/**
	 * Reads the log from its start, handing each whole record to `visit` (a PUBLISH's body is
	 * its topic field and payload), and returns the bytes after the last whole record: 0 for
	 * a sound log, the file's length for one that is not ours. A rewrite left behind by a
	 * power cut is deleted: the log it was made from is whole.
	 */
	read(visit: RecordVisitor): number {
		if (File.exists(this.tmp)) File.delete(this.tmp);
		this.length = 0;
		this.broken = true;
		this.torn = 0;
		this.done.length = 0;
		if (!File.exists(this.path)) return 0;
		const file = new File(this.path, false);
		const total = file.length;
		let at = 0;
		try {
			const crc = this.crc;
			while (at + RECORD_OVERHEAD <= total) {
				const header = file.read(ArrayBuffer, 8);
				const view = new DataView(header);
				const type = view.getUint8(0), first = view.getUint8(1), id = view.getUint16(2), length = view.getUint32(4);
				if (length > total - at - RECORD_OVERHEAD || !sound(type, first, id, length, at === 0)) break;
				// The body and its CRC in one read; the CRC of a record with its own CRC appended
				// is 0 (CRC-16/CCITT has no final xor): no view of the CRC is needed.
				const rest = file.read(ArrayBuffer, length + 2);
				crc.reset();
				crc.checksum(header);
				if (crc.checksum(rest) !== 0) break;
				const body = length === 0 ? undefined : new Uint8Array(rest);
				if (body !== undefined && ((body[0] << 8) | body[1]) + 2 > length) break;
				if (type !== START) visit(type, first, id, body, length);
				at += RECORD_OVERHEAD + length;
			}
		}
		finally {
			file.close();
		}
		this.length = at;
		// A log needs its START record: without one the store rewrites it first.
		this.broken = at === 0;
		this.torn = total - at;
		return total - at;
	}

	/** Deletes the log (and a rewrite left behind). */
	erase(): void {
		File.delete(this.tmp);
		File.delete(this.path);
		this.length = 0;
		this.torn = 0;
		this.done.length = 0;
		this.broken = true;
	}
}

/** Whether a record's header can be ours: a START first (and only first), a PUBLISH at
 * QoS 1 or 2 with a body, every other type without one. */
function sound(type: number, first: number, id: number, length: number, start: boolean): boolean {
	if (start || type === START) return start && type === START && id === FORMAT && length === 0;
	if (type === PUBLISH) return (first & 0xF0) === 0x30 && ((first >> 1) & 3) !== 0 && ((first >> 1) & 3) !== 3 && id !== 0 && length >= 2;
	if (type === FORGET) return length === 0 && id === 0;
	return length === 0 && id !== 0 && (type === RELEASED || type === DONE || type === RECEIVED || type === RECEIVED_RELEASED);
}

/** The bytes as an ArrayBuffer of their own: the simulator's File writes only whole
 * ArrayBuffers. A view over a whole buffer (the client's topic fields and payload copies)
 * gives its buffer; any other view is copied (restored entries, in a rewrite). */
function whole(bytes: Uint8Array | ArrayBuffer): ArrayBuffer {
	if (bytes instanceof ArrayBuffer) return bytes;
	const buffer = bytes.buffer as ArrayBuffer;
	return bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength ? buffer : buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}
