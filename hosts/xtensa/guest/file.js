/*
 * file — the Moddable SDK's File, Iterator, Directory and System on the Xtensa host, with
 * the Linux simulator's semantics. The classes and methods are the C host functions
 * (platform/file.c, filedir.c), as on a device. The files live in the run's storage
 * directory (mc/config's file.root); a path outside it is refused.
 */
const host = globalThis.xtensaHost;

const method = value => ({value, writable: true, configurable: true});

export const File = host.File;
Object.defineProperties(File.prototype, {
	read: method(host.fileRead),
	write: method(host.fileWrite),
	close: method(host.fileClose),
	length: {get: host.fileLength, configurable: true},
	position: {get: host.fileGetPosition, set: host.fileSetPosition, configurable: true},
});
Object.defineProperties(File, {
	delete: method(host.fileDelete),
	exists: method(host.fileExists),
	rename: method(host.fileRename),
});

export const Iterator = host.Iterator;
Object.defineProperties(Iterator.prototype, {
	next: method(host.iteratorNext),
	[Symbol.iterator]: method(function () {
		const iterator = this;
		return {
			next() {
				const value = iterator.next();
				return {value, done: value === undefined};
			},
		};
	}),
});

export class Directory {
	static create(path) {
		host.directoryCreate(path);
	}
	static delete(path) {
		host.directoryDelete(path);
	}
}

export class System {
	static config() {
		return {maxPathLength: 4096};	// lin's PATH_MAX
	}
	static info() {
		return {};	// lin reports nothing
	}
}

for (const item of [File, File.prototype, Iterator, Iterator.prototype, Directory, System])
	Object.freeze(item);

export default Object.freeze({File, Iterator, System, Directory});
