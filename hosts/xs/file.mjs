/*
 * The parent's half of the SDK's `file` and `crc` modules (guest: hosts/xs/guest/file.js,
 * crc.js): files in one storage directory on the Node side, and a power cut that can fall
 * on any byte a write puts on storage.
 *
 * Two file systems, as the SDK has them:
 * - "posix", the Linux simulator (modules/files/file/lin/modFile.c): every write reaches the
 *   file before File.write returns (fwrite + fflush); a cut inside a write leaves the bytes
 *   before it (a torn record); rename(2) and unlink(2) are atomic.
 * - "littlefs", a device with manifest_littlefs.json (modules/files/file/littlefs): writes
 *   reach storage only when the file is closed (lfs_file_close syncs), all of them at once
 *   or none (LittleFS commits copy-on-write); a cut before the close, or inside it, loses
 *   every write since the open. Rename and remove are atomic.
 *
 * The cut: `cut.bytes` n ends the app once n more bytes have gone to storage (inside the
 * write that crosses it: posix keeps the part before, littlefs none of that commit);
 * `cut.changes` k ends it right after the k-th change to storage (a write on posix, a close
 * that commits on littlefs, a rename, a delete). The app ends as a powered-off device:
 * nothing more of its turn runs, its sockets drop.
 */
import fs from "node:fs";
import path from "node:path";

export const F_OPEN = 1, F_READ = 2, F_WRITE = 3, F_CLOSE = 4, F_LENGTH = 5, F_DELETE = 6,
	F_EXISTS = 7, F_RENAME = 8, F_CRC = 9, F_LOGICAL = 10;

/**
 * The calls of the small native data modules (`crc`, `logical`), which need no storage:
 * u8 operation, then its arguments; returns the answer's bytes.
 * @param {Uint8Array} payload
 */
export function natives(payload) {
	const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
	if (payload[0] === F_CRC)
		return int32(crc16(view.getUint16(1, true), view.getUint16(3, true), payload[5] === 1, payload.subarray(6)));
	if (payload[0] === F_LOGICAL) {
		// u8 op (0 xor, 1 and, 2 or), u32 dst length, dst, src: dst combined with src repeated
		const length = view.getUint32(2, true);
		const dst = payload.slice(6, 6 + length), src = payload.subarray(6 + length);
		for (let i = 0, j = 0; i < dst.length; i++, j = (j + 1) % src.length)
			dst[i] = payload[1] === 0 ? dst[i] ^ src[j] : payload[1] === 1 ? dst[i] & src[j] : dst[i] | src[j];
		return dst;
	}
	throw new Error(`unknown operation ${payload[0]}`);
}

/** Thrown to the host when the power is cut. */
export class PowerCut extends Error {}

const decoder = new TextDecoder();

export class FileModel {
	/**
	 * @param {{root: string, system?: "posix"|"littlefs", cut?: {bytes?: number, changes?: number}, capacity?: number}} options
	 *   capacity: bytes the storage directory may hold; a write past it fails, as on a full device
	 */
	constructor(options) {
		this.root = path.resolve(options.root);
		this.system = options.system ?? "posix";
		this.bytesLeft = options.cut?.bytes ?? Infinity;
		this.changesLeft = options.cut?.changes ?? Infinity;
		this.capacity = options.capacity ?? Infinity;
		/** bytes that reached storage, and changes made (writes, commits, renames, deletes) */
		this.stored = 0;
		this.changes = 0;
		/** @type {Map<number, {file: string, writable: boolean, pending?: Uint8Array}>} */
		this.handles = new Map();
		this.nextHandle = 1;
	}

	/** One call of the guest: u8 operation, then its arguments; returns the answer's bytes. */
	/** @param {Uint8Array} payload @returns {Uint8Array} */
	apply(payload) {
		const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
		const op = payload[0];
		const text = () => decoder.decode(payload.subarray(5, 5 + view.getUint32(1, true)));
		switch (op) {
			case F_OPEN: return this.open(decoder.decode(payload.subarray(2)), payload[1] === 1);
			case F_READ: return this.read(view.getUint32(1, true), view.getUint32(5, true), view.getUint32(9, true));
			case F_WRITE: return this.write(view.getUint32(1, true), view.getUint32(5, true), payload.subarray(9));
			case F_CLOSE: return this.close(view.getUint32(1, true));
			case F_LENGTH: return int32(this.length(view.getUint32(1, true)));
			case F_DELETE: return int32(this.change(() => this.unlink(this.resolve(text()))) ? 1 : 0);
			case F_EXISTS: return int32(fs.existsSync(this.resolve(text())) ? 1 : 0);
			case F_RENAME: {
				const length = view.getUint32(1, true);
				const from = this.resolve(decoder.decode(payload.subarray(5, 5 + length)));
				const to = this.resolve(decoder.decode(payload.subarray(5 + length)));
				return int32(this.change(() => {
					try {
						fs.renameSync(from, to);
						return true;
					}
					catch {
						return false;
					}
				}) ? 1 : 0);
			}
			case F_CRC: return natives(payload);
		}
		throw new Error(`file: unknown operation ${op}`);
	}

	/** A path inside the storage directory (the app's `config.file.root`). */
	/** @param {string} name */
	resolve(name) {
		const full = path.resolve(name);
		if (full !== this.root && !full.startsWith(this.root + path.sep))
			throw new Error(`path ${name} is outside the storage directory ${this.root}`);
		return full;
	}

	/** @param {string} name @param {boolean} writable */
	open(name, writable) {
		const file = this.resolve(name);
		if (!fs.existsSync(file)) {
			if (!writable)
				return int32(-1);
			this.change(() => fs.writeFileSync(file, ""));   // LittleFS too commits a created file at once
		}
		const handle = this.nextHandle++;
		const entry = { file, writable, pending: /** @type {Uint8Array|undefined} */ (undefined) };
		if (this.system === "littlefs" && writable)
			entry.pending = fs.existsSync(file) ? new Uint8Array(fs.readFileSync(file)) : new Uint8Array(0);
		this.handles.set(handle, entry);
		return int32(handle);
	}

	/** @param {number} handle */
	content(handle) {
		const entry = this.entry(handle);
		return entry.pending ?? new Uint8Array(fs.readFileSync(entry.file));
	}

	/** @param {number} handle @param {number} position @param {number} count */
	read(handle, position, count) {
		return this.content(handle).slice(position, position + count);
	}

	/** @param {number} handle */
	length(handle) {
		return this.content(handle).length;
	}

	/** Bytes the storage directory holds now. */
	used() {
		return fs.readdirSync(this.root).reduce((sum, name) => sum + fs.statSync(path.join(this.root, name)).size, 0);
	}

	/** @param {number} handle @param {number} position @param {Uint8Array} bytes */
	write(handle, position, bytes) {
		const entry = this.entry(handle);
		if (!entry.writable)
			return int32(-1);
		const current = (entry.pending ?? { length: fs.statSync(entry.file).size }).length;
		if (this.capacity !== Infinity && this.used() + Math.max(0, position + bytes.length - current) > this.capacity)
			return int32(-1);        // no space: nothing of it is written (lin: fwrite fails, "file write failed")
		if (entry.pending) {
			// littlefs: in RAM until close(); a cut meanwhile loses it all.
			if (bytes.length > this.bytesLeft) {
				this.bytesLeft = 0;
				throw new PowerCut("power cut inside a write (littlefs: nothing since the open reached storage)");
			}
			entry.pending = splice(entry.pending, position, bytes);
			return int32(bytes.length);
		}
		const kept = Math.min(bytes.length, this.bytesLeft);
		const fd = fs.openSync(entry.file, "r+");
		try {
			fs.writeSync(fd, bytes, 0, kept, position);
		}
		finally {
			fs.closeSync(fd);
		}
		this.stored += kept;
		this.bytesLeft -= kept;
		if (kept < bytes.length)
			throw new PowerCut(`power cut inside a write (${kept} of ${bytes.length} bytes reached the file)`);
		this.change(() => undefined, true);
		return int32(bytes.length);
	}

	/** @param {number} handle */
	close(handle) {
		const entry = this.entry(handle);
		this.handles.delete(handle);
		if (entry.pending) {
			const pending = entry.pending;
			this.change(() => {
				// A commit is all or nothing: the cut falls before it when the bytes run out.
				if (pending.length > this.bytesLeft)
					throw new PowerCut("power cut inside a commit (littlefs: the file keeps its last commit)");
				fs.writeFileSync(entry.file + ".commit", pending);
				fs.renameSync(entry.file + ".commit", entry.file);
				this.stored += pending.length;
				this.bytesLeft -= pending.length;
			});
		}
		return int32(0);
	}

	/** @param {number} handle */
	entry(handle) {
		const entry = this.handles.get(handle);
		if (!entry)
			throw new Error(`file: no open file ${handle}`);
		return entry;
	}

	/** @param {string} file */
	unlink(file) {
		try {
			fs.unlinkSync(file);
			return true;
		}
		catch {
			return false;
		}
	}

	/**
	 * A change to storage; the power goes right after the one `cut.changes` names.
	 * @template T @param {() => T} body @param {boolean} [done] the change already happened
	 */
	change(body, done) {
		const result = done ? /** @type {T} */ (undefined) : body();
		this.changes++;
		if (--this.changesLeft <= 0)
			throw new PowerCut(`power cut after change ${this.changes}`);
		return result;
	}
}

/** @param {number} value */
function int32(value) {
	const bytes = new Uint8Array(4);
	new DataView(bytes.buffer).setInt32(0, value, true);
	return bytes;
}

/** `content` with `bytes` written at `position` (grown as needed). */
/** @param {Uint8Array} content @param {number} position @param {Uint8Array} bytes */
function splice(content, position, bytes) {
	const result = new Uint8Array(Math.max(content.length, position + bytes.length));
	result.set(content);
	result.set(bytes, position);
	return result;
}

/** CRC-16 with the polynomial's MSB-first register, as modules/data/crc's table-driven one;
 * `reflect` reflects each input byte. Returns the register after `bytes`. */
/** @param {number} polynomial @param {number} crc @param {boolean} reflect @param {Uint8Array} bytes */
function crc16(polynomial, crc, reflect, bytes) {
	for (let byte of bytes) {
		if (reflect)
			byte = reflect8(byte);
		crc ^= byte << 8;
		for (let bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? ((crc << 1) ^ polynomial) & 0xFFFF : (crc << 1) & 0xFFFF;
	}
	return crc;
}

/** @param {number} b */
function reflect8(b) {
	let r = 0;
	for (let i = 0; i < 8; i++)
		r |= ((b >> i) & 1) << (7 - i);
	return r;
}
