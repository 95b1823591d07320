/*
 * file — the SDK's classic File module (modules/files/file/file.js) for the desktop XS host,
 * with the Linux simulator's rules (lin/modFile.c), or LittleFS's where they differ (the
 * esp32 profile): the bytes live in the parent's storage directory (hosts/xs/file.mjs),
 * which also decides when a write is durable and where a power cut falls.
 *
 * Kept from the SDK:
 * - new File(path, true) opens for reading and writing, creating the file; new File(path)
 *   opens to read and throws "file not found" when it is missing.
 * - write(...items): a string (its UTF-8 bytes), a number (one byte), or on lin an
 *   ArrayBuffer only (xsmcToArrayBuffer: a typed array throws TypeError); LittleFS takes
 *   any buffer. Written at the position, which moves on.
 * - read(ArrayBuffer | String, count): from the position, at most to the end; reading at the
 *   end throws "read past end of file".
 * - File.delete/exists/rename return booleans; rename's target without a '/' is a name in
 *   the source's directory.
 * Not modelled: Iterator, Directory, System (they throw).
 */
import {callFile, utf8, fromUtf8, bytesOf, state} from "xs-host/bridge";

const F_OPEN = 1, F_READ = 2, F_WRITE = 3, F_CLOSE = 4, F_LENGTH = 5, F_DELETE = 6, F_EXISTS = 7, F_RENAME = 8;
const handles = new WeakMap();		// File -> {handle, position}

function int32(answer) {
	return new DataView(answer.buffer, answer.byteOffset, 4).getInt32(0, true);
}

function call(op, ...numbers) {
	const bytes = new Uint8Array(1 + 4 * numbers.length);
	const view = new DataView(bytes.buffer);
	bytes[0] = op;
	numbers.forEach((n, i) => view.setUint32(1 + 4 * i, n, true));
	return bytes;
}

function withText(op, ...texts) {
	const parts = texts.map(t => utf8(String(t)));
	const bytes = new Uint8Array(5 + parts.reduce((n, p) => n + p.length, 0));
	bytes[0] = op;
	new DataView(bytes.buffer).setUint32(1, parts[0].length, true);
	let at = 5;
	for (const part of parts) {
		bytes.set(part, at);
		at += part.length;
	}
	return bytes;
}

function open(file) {
	const record = handles.get(file);
	if (!record)
		throw new Error("closed");
	return record;
}

export class File {
	constructor(path, write) {
		const name = utf8(String(path));
		const bytes = new Uint8Array(2 + name.length);
		bytes[0] = F_OPEN;
		bytes[1] = write ? 1 : 0;
		bytes.set(name, 2);
		const handle = int32(callFile(bytes));
		if (handle < 0)
			throw new Error("file not found");
		handles.set(this, {handle, position: 0});
	}
	read(type, count) {
		const record = open(this);
		const length = this.length;
		if (count === undefined || count < 0 || length < record.position + count) {
			if (record.position >= length)
				throw new Error("read past end of file");
			count = length - record.position;
		}
		const bytes = callFile(call(F_READ, record.handle, record.position, count));
		record.position += bytes.length;
		return type === String ? fromUtf8(bytes) : bytes.slice().buffer;
	}
	write(...items) {
		const record = open(this);
		const parts = [];
		let total = 0;
		for (const item of items) {
			let part;
			if (typeof item === "string")
				part = utf8(item);
			else if (typeof item === "number")
				part = Uint8Array.of(item & 0xFF);
			else if (item instanceof ArrayBuffer || (state.fileSystem === "littlefs" && bytesOf(item)))
				part = bytesOf(item);
			else
				throw new TypeError("not an ArrayBuffer instance");
			parts.push(part);
			total += part.length;
		}
		const bytes = new Uint8Array(9 + total);
		bytes.set(call(F_WRITE, record.handle, record.position));
		let at = 9;
		for (const part of parts) {
			bytes.set(part, at);
			at += part.length;
		}
		if (int32(callFile(bytes)) < 0)
			throw new Error("file write failed");
		record.position += total;
	}
	close() {
		const record = open(this);
		handles.delete(this);
		callFile(call(F_CLOSE, record.handle));
	}
	get length() {
		return int32(callFile(call(F_LENGTH, open(this).handle)));
	}
	get position() {
		return open(this).position;
	}
	set position(value) {
		open(this).position = Math.max(0, Math.trunc(Number(value)) || 0);
	}
	static delete(path) {
		return int32(callFile(withText(F_DELETE, path))) === 1;
	}
	static exists(path) {
		return int32(callFile(withText(F_EXISTS, path))) === 1;
	}
	static rename(path, name) {
		name = String(name);
		let target = name;
		if (!name.startsWith("/")) {
			if (name.includes("/"))
				throw new Error("invalid to");
			const slash = String(path).lastIndexOf("/");
			if (slash < 0)
				throw new Error("invalid from");
			target = String(path).slice(0, slash + 1) + name;
		}
		return int32(callFile(withText(F_RENAME, path, target))) === 1;
	}
}

export class Iterator {
	constructor() {
		throw new Error("xs host: file Iterator is not modelled");
	}
}
export class Directory {
	static create() { throw new Error("xs host: Directory is not modelled"); }
	static delete() { throw new Error("xs host: Directory is not modelled"); }
}
export class System {
	static config() { throw new Error("xs host: System is not modelled"); }
	static info() { throw new Error("xs host: System is not modelled"); }
}

export default Object.freeze({File, Iterator, System, Directory});
