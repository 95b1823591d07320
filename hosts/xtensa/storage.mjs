// @ts-check
/**
 * The Node side of the guest's `file` module (platform/file.c, filedir.c): the storage
 * directory and the requests on the storage channel, a socketpair the guest sees as fd 4
 * (framing in platform/channel.h). Requests are answered in order, one reply each; a
 * write's bytes go to the file in one call once they all arrived, so a guest stopped
 * mid-write leaves the file as it was. Paths outside the directory are refused.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const REQUEST = 20;
const OP = { OPEN: 1, CLOSE: 2, SIZE: 3, READ: 4, WRITE: 5, DELETE: 6, EXISTS: 7, RENAME: 8,
	DIR_CREATE: 9, DIR_DELETE: 10, DIR_OPEN: 11, DIR_NEXT: 12, DIR_CLOSE: 13 };
const FAILED = -1;
const OUTSIDE = -2;
const NAME_MAX = 255;

export class Storage {
	/**
	 * @param {string | null | undefined} dir  the directory to use (created if missing, kept);
	 *   undefined: a fresh temporary directory, removed by close(); null: none (an app
	 *   without the `file` module), every path refused
	 */
	constructor(dir) {
		this.temporary = dir === undefined;
		if (dir)
			fs.mkdirSync(dir, { recursive: true });
		/** the directory, resolved (symlinks too), as the guest's file.root gives it */
		this.root = dir === null ? null : fs.realpathSync(dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-xtensa-storage-")));
		/** @type {Map<number, number>} handle -> fd */
		this.files = new Map();
		/** @type {Map<number, {dir: string, names: string[]}>} handle -> listing left */
		this.listings = new Map();
		this.nextHandle = 1;
		/** @type {Buffer} */
		this.inbox = Buffer.alloc(0);
	}

	/** file.root for the guest's mc/config: the directory with a trailing slash, as lin's "/tmp/". */
	get fileRoot() {
		return this.root + "/";
	}

	/**
	 * Serve the guest's requests arriving on `socket`.
	 * @param {import("node:net").Socket} socket
	 */
	attach(socket) {
		socket.on("data", (/** @type {Buffer} */ chunk) => {
			this.inbox = this.inbox.length ? Buffer.concat([this.inbox, chunk]) : chunk;
			while (this.inbox.length >= REQUEST) {
				const length = this.inbox.readUInt32LE(16);
				if (this.inbox.length < REQUEST + length)
					break;
				const [op, handle, a, b] = [0, 4, 8, 12].map(at => this.inbox.readUInt32LE(at));
				const payload = this.inbox.subarray(REQUEST, REQUEST + length);
				this.inbox = this.inbox.subarray(REQUEST + length);
				const [status, value = 0, bytes] = this._serve(op, handle, a, b, payload);
				const reply = Buffer.alloc(12);
				reply.writeInt32LE(status, 0);
				reply.writeUInt32LE(value >>> 0, 4);
				reply.writeUInt32LE(bytes ? bytes.length : 0, 8);
				socket.write(bytes && bytes.length ? Buffer.concat([reply, bytes]) : reply);
			}
		});
		socket.on("error", () => {});
	}

	/** Close what the guest left open; remove a temporary directory. */
	close() {
		for (const fd of this.files.values())
			fs.closeSync(fd);
		this.files.clear();
		this.listings.clear();
		if (this.temporary && this.root)
			fs.rmSync(this.root, { recursive: true, force: true });
	}

	/** @param {string} p a path from the guest: absolute, and inside the directory (the directory itself if `self`) */
	_inside(p, self = false) {
		if (!this.root || !p.startsWith("/") || p.includes("\0"))
			return false;
		const resolved = path.resolve(p);
		return resolved.startsWith(this.root + "/") || (self && resolved === this.root);
	}

	/**
	 * @param {number} op @param {number} handle @param {number} a @param {number} b @param {Buffer} payload
	 * @returns {[number, number?, Buffer?]} status, value, reply payload
	 */
	_serve(op, handle, a, b, payload) {
		const text = payload.toString("utf8");
		const self = op === OP.DIR_OPEN || op === OP.EXISTS || op === OP.DIR_CREATE;
		if ([OP.OPEN, OP.DELETE, OP.EXISTS, OP.DIR_CREATE, OP.DIR_DELETE, OP.DIR_OPEN].includes(op) && !this._inside(text, self))
			return [OUTSIDE];
		try {
			switch (op) {
			case OP.OPEN: {
				let fd;
				try {
					fd = fs.openSync(text, a ? "r+" : "r");		// lin: "rb+" / "rb"
				}
				catch (e) {
					if (!a)
						throw e;
					fd = fs.openSync(text, "w+");		// then "wb+"
				}
				const id = this.nextHandle++;
				this.files.set(id, fd);
				return [id];
			}
			case OP.CLOSE: {
				const fd = this.files.get(handle);
				this.files.delete(handle);
				if (fd !== undefined)
					fs.closeSync(fd);
				return [0];
			}
			case OP.SIZE:
				return [0, fs.fstatSync(this._fd(handle)).size];
			case OP.READ: {
				const bytes = Buffer.alloc(b);
				const n = fs.readSync(this._fd(handle), bytes, 0, b, a);
				return [n, 0, bytes.subarray(0, n)];
			}
			case OP.WRITE: {
				const fd = this._fd(handle);
				let done = 0;
				while (done < payload.length)		// one call but for a short write
					done += fs.writeSync(fd, payload, done, payload.length - done, a + done);
				return [done];
			}
			case OP.DELETE:
				fs.unlinkSync(text);
				return [1];
			case OP.EXISTS:
				fs.statSync(text);
				return [1];
			case OP.RENAME: {
				const [from, to] = text.split("\0");
				if (!this._inside(from) || !this._inside(to))
					return [OUTSIDE, this._inside(from) ? 1 : 0];
				fs.renameSync(from, to);		// rename(2): replaces an existing `to` atomically
				return [1];
			}
			case OP.DIR_CREATE:
				try {
					fs.mkdirSync(text, { mode: 0o755 });
				}
				catch (e) {
					if (/** @type {NodeJS.ErrnoException} */ (e).code !== "EEXIST")
						throw e;
				}
				return [0];
			case OP.DIR_DELETE:
				try {
					fs.rmdirSync(text);
				}
				catch (e) {
					if (/** @type {NodeJS.ErrnoException} */ (e).code !== "ENOENT")
						throw e;
				}
				return [0];
			case OP.DIR_OPEN: {
				// as readdir gives them, "." and ".." included; kinds other than file and directory skipped later
				const names = [".", "..", ...fs.readdirSync(text)];
				const id = this.nextHandle++;
				this.listings.set(id, { dir: text, names });
				return [id];
			}
			case OP.DIR_NEXT:
				return this._next(handle);
			case OP.DIR_CLOSE:
				this.listings.delete(handle);
				return [0];
			}
			return [FAILED];
		}
		catch {
			// not found, a read-only file written, a failed rename: the guest reports it as lin does
			return [op === OP.DELETE || op === OP.EXISTS || op === OP.RENAME ? 0 : FAILED];
		}
	}

	/** @param {number} handle */
	_fd(handle) {
		const fd = this.files.get(handle);
		if (fd === undefined)
			throw new Error("no such file handle");
		return fd;
	}

	/** The next file or directory of a listing: status 1 directory, 2 file (value its length), 0 the end. @param {number} handle @returns {[number, number?, Buffer?]} */
	_next(handle) {
		const listing = this.listings.get(handle);
		while (listing && listing.names.length) {
			const name = /** @type {string} */ (listing.names.shift());
			let stat;
			try {
				stat = fs.lstatSync(path.join(listing.dir, name));
			}
			catch {
				continue;		// gone meanwhile
			}
			const bytes = Buffer.from(name).subarray(0, NAME_MAX);
			if (stat.isDirectory())
				return [1, 0, bytes];
			if (stat.isFile())
				return [2, stat.size, bytes];
		}
		this.listings.delete(handle);
		return [0];
	}
}
