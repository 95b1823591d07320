/*
 * mqttc/io (manifest_io.json): MQTT over the ECMA-419 TCP socket (`embedded:io/socket/tcp`,
 * Moddable's newer IO) instead of the classic Socket, chosen by `opts.io`. The socket is
 * adapted to what the link reads and writes (LinkSocket): the first onWritable is "connected"
 * (message 1), later ones "room to write" (3), onReadable is data (2), onError the end (-1
 * once connected, -2 before: the socket does not say whether the peer closed or failed).
 *
 * ECMA-419 sockets take an IP address, not a name: a name is resolved first, by the
 * resolver the app gives (`io.dns`, an ECMA-419 resolver entry as the host provider's
 * `device.network.mqtt.dns`), else by the SDK's `net` module when the app has it.
 */

import Modules from "modules";
import Timer from "timer";
import type { IoConstructor, IoOptions, IoSocketEntry, IoTlsModule, LinkSocket, SecureDictionary, Transport } from "mqttc/types";

/** A buffer of at most this many bytes is copied next to the numbers around it so that a
 * packet goes out in one write() (a PUBLISH: header, topic and packet id); a larger one is
 * written on its own. Copying costs the engine ~2 units a byte, a write() call more than 64. */
const GATHER = 32;
/** The gather buffer: a PUBLISH's fixed header (5), topic field up to GATHER, packet id (2). */
const GATHER_SIZE = 64;
/** What the link writes: buffers, views, numbers (a byte each). */
type Part = ArrayBuffer | ArrayBufferView | number;
/** TLS (the SDK's TLSSocket): it reports onWritable as the TCP room less 96 (its estimate of
 * a record's cost) but write() returns the TCP room less 32, and a record of AES-CBC with
 * HMAC-SHA256 costs up to 69 bytes (5 header, 16 IV, 32 MAC, 16 padding): so its write()'s
 * answer less this is the room for the data of one more record. */
const TLS_SLACK = 64;
/** An IPv4 or IPv6 literal (needs no resolver). */
const LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;

class IoTransport implements Transport {
	declare readonly label: string;
	declare socket: IoSocketEntry;
	declare dns: IoSocketEntry | undefined;
	declare secure: SecureDictionary | undefined;
	/** mqttc/iotls, with `ssl`. */
	declare tls: IoTlsModule | undefined;

	constructor(socket: IoSocketEntry, dns: IoSocketEntry | undefined, secure: SecureDictionary | undefined, tls: IoTlsModule | undefined) {
		this.socket = socket;
		this.dns = dns;
		this.secure = secure;
		this.tls = tls;
		this.label = secure ? " (ECMA-419 TLS)" : " (ECMA-419)";
	}

	open(host: string, port: number): LinkSocket {
		const socket = new IoSocket(this, host, port);
		if (LITERAL.test(host)) socket.connect(host);
		else resolve(this.dns, host, socket);
		return socket;
	}

	restart(): void {}

	retry(): boolean {
		return false;
	}

	failure(socket: LinkSocket | undefined, error?: unknown): string {
		const why = (socket as IoSocket | undefined)?.why;
		if (why !== undefined) return why;
		if (error !== undefined) return `cannot open connection: ${(error as Error).message}`;
		return this.secure ? "ECMA-419 TLS connection failed (refused, handshake or certificate)" : "connection failed (refused or unreachable)";
	}

	broken(socket: LinkSocket | undefined): string | undefined {
		return (socket as IoSocket | undefined)?.why;
	}
}

/** The LinkSocket over one ECMA-419 socket (made once the address is known). */
class IoSocket implements LinkSocket {
	declare callback: (message: number, value?: number) => void;
	declare transport: IoTransport;
	declare host: string;
	declare port: number;
	/** The ECMA-419 socket; `options` only for the TLS socket ({more}: the record goes on). */
	declare socket: { read(): ArrayBuffer | undefined; write(buffer: ArrayBufferView | ArrayBuffer, options?: object): number | undefined; close(): void } | undefined;
	/** Bytes write() may take now (the socket's last word on it). */
	declare writable: number;
	/** 0 resolving or connecting, 1 connected, 2 ended. */
	declare state: number;
	/** Why it failed, when the socket's onError is not the whole story (a name not resolved). */
	declare why: string | undefined;
	/** A packet's small parts, gathered for one write(); `ack` its first four bytes. */
	declare gather: Uint8Array;
	declare ack: Uint8Array;
	/** TLS: the options of a write() whose data waits for the next one's (one record a packet:
	 * each record costs its overhead), and what write()'s answer counts beyond the room. */
	declare more: { more: true; byteLength: number } | undefined;
	declare slack: number;

	constructor(transport: IoTransport, host: string, port: number) {
		this.transport = transport;
		this.host = host;
		this.port = port;
		this.socket = this.why = undefined;
		this.writable = this.state = 0;
		const gather = this.gather = new Uint8Array(GATHER_SIZE);
		this.ack = gather.subarray(0, 4);
		this.callback = () => {};
		this.more = transport.secure ? { more: true, byteLength: 0 } : undefined;
		this.slack = transport.secure ? TLS_SLACK : 0;
	}

	/** Opens the ECMA-419 socket to `address`; may throw (an invalid address). */
	connect(address: string): void {
		const entry = this.transport.socket;
		const Io = entry.io as IoConstructor;
		const options: Record<string, unknown> = {
			...entry, address, host: this.host, port: this.port, nodelay: true,
			onReadable: (count: number) => this.state === 1 && this.callback(2, count),
			onWritable: (count: number) => this.room(count),
			onError: () => this.error(),
		};
		const secure = this.transport.secure;
		if (secure) {
			options.secure = secure;
			// What its handshake throws in the TCP callbacks ends this socket (mqttc/iotls).
			const tcp = entry.TCP as IoSocketEntry | undefined;
			if (tcp !== undefined && typeof tcp.io === "function") options.TCP = this.transport.tls!.guard(tcp, (e) => this.thrown(e));
		}
		delete options.io;
		this.socket = new Io(options);
	}

	/** The host name's address came (or not: `address` undefined). */
	resolved(address: string | undefined): void {
		if (this.state !== 0 || this.socket) return;
		if (address === undefined) return this.fail(`cannot resolve ${this.host}`);
		try {
			this.connect(address);
		}
		catch (e) {
			this.fail(`cannot open connection: ${(e as Error).message}`);
		}
	}

	read(_type: typeof ArrayBuffer): ArrayBuffer {
		return this.socket!.read() as ArrayBuffer;
	}

	/**
	 * The parts (buffers, views, numbers a byte each) all or nothing; with no argument, the
	 * room. The ECMA-419 write() takes one buffer: the writer's usual shapes go out without a
	 * loop (a loop costs ~45 compute units a part): an acknowledgement (four numbers) in one
	 * write(), a PUBLISH's fixed header, topic field and id gathered into one and its payload
	 * in another (lwIP sends them in one segment); any other shape through parts().
	 */
	write(a?: Part, b?: Part, c?: Part, d?: Part, e?: Part, f?: Part, g?: Part): number | void {
		const count = arguments.length;
		if (count === 0) return this.writable > 0 ? this.writable : 0;       // TLS: the slack may take it below 0
		if (this.state !== 1) throw new Error("write on closed socket");
		const gather = this.gather;
		if (typeof a === "number" && typeof b === "number") {
			if (count === 4 && typeof d === "number") {                     // PUBACK, PUBREC, PUBREL, PUBCOMP
				if (this.writable < 4) throw new Error("can't write all data");
				gather[0] = a; gather[1] = b; gather[2] = c as number; gather[3] = d;
				const left = this.socket!.write(this.ack);
				this.writable = (left as number) >= 0 ? (left as number) - this.slack : 0;
				return;
			}
			// A PUBLISH: first byte, 1 or 2 length bytes, topic field (the writer's Uint8Array), [id], payload.
			let at = 2, field = c as Uint8Array, id = d, low = e, payload = f, n = count;
			if (typeof c === "number") gather[2] = c, at = 3, field = d as Uint8Array, id = e, low = f, payload = g, n--;
			if (typeof field === "object" && field.length <= GATHER && (n === 4 || (n === 6 && typeof id === "number"))) {
				gather[0] = a; gather[1] = b;
				gather.set(field, at);
				at += field.length;
				if (n === 4) payload = id;                                     // QoS 0: no id
				else gather[at++] = id as number, gather[at++] = low as number;
				return this.send(gather.subarray(0, at), payload as Uint8Array);
			}
		}
		if (count === 1 && typeof a === "object") return this.send(a, undefined);
		this.parts(Array.prototype.slice.call(arguments) as Part[]);     // all of them: a WebSocket frame has more than seven
	}

	/** One or two buffers, all or nothing. */
	private send(head: ArrayBuffer | ArrayBufferView, body: ArrayBuffer | ArrayBufferView | undefined): void {
		const socket = this.socket!;
		const total = head.byteLength + (body === undefined ? 0 : body.byteLength);
		if (total > this.writable) throw new Error("can't write all data");
		let left;
		const more = this.more;
		if (body === undefined) left = socket.write(head);
		else if (more === undefined) {
			socket.write(head);
			left = socket.write(body);
		}
		else {                          // TLS: head and body in one record
			more.byteLength = total;
			socket.write(head, more);
			left = socket.write(body);
		}
		// lwIP answers a write after an error with nothing (the TLS socket then with NaN): no room until onError ends it.
		this.writable = (left as number) >= 0 ? (left as number) - this.slack : 0;
	}

	/** Any shape: numbers and small buffers gathered, larger buffers written on their own. */
	private parts(parts: Part[]): void {
		const socket = this.socket!;
		let total = 0;
		for (let i = 0; i < parts.length; i++) {
			const part = parts[i];
			total += typeof part === "number" ? 1 : part.byteLength;
		}
		if (total > this.writable) throw new Error("can't write all data");
		const gather = this.gather;
		const more = this.more;         // TLS: all the parts in one record, sealed at the end
		if (more !== undefined) more.byteLength = total;
		let at = 0, left: number | undefined;
		for (let i = 0; i < parts.length; i++) {
			const part = parts[i];
			if (typeof part === "number") {
				if (at === GATHER_SIZE) left = socket.write(gather, more), at = 0;
				gather[at++] = part;
				continue;
			}
			const size = part.byteLength;
			if (size <= GATHER) {
				if (at + size > GATHER_SIZE) left = socket.write(gather.subarray(0, at), more), at = 0;
				gather.set(part instanceof Uint8Array ? part : ArrayBuffer.isView(part) ? new Uint8Array(part.buffer, part.byteOffset, size) : new Uint8Array(part), at);
				at += size;
				continue;
			}
			if (at !== 0) left = socket.write(gather.subarray(0, at), more), at = 0;
			left = socket.write(part, more);
		}
		if (at !== 0) left = socket.write(gather.subarray(0, at), more);
		if (more !== undefined) left = socket.write(gather.subarray(0, 0));     // no data: seals the record
		this.writable = (left as number) >= 0 ? (left as number) - this.slack : 0;
	}

	close(): void {
		this.state = 2;
		const socket = this.socket;
		this.socket = undefined;
		socket?.close();
	}

	/** onWritable: the first time connected, then room to write. */
	private room(count: number): void {
		this.writable = count;
		if (this.state === 0) {
			this.state = 1;
			this.callback(1);
		}
		else if (this.state === 1) this.callback(3, count);
	}

	private error(): void {
		if (this.state === 2) return;
		const connected = this.state === 1;
		this.close();
		this.callback(connected ? -1 : -2);
	}

	/** What the TLS socket threw in a TCP callback (its handshake): the end of this socket. */
	thrown(e: unknown): void {
		if (this.state === 2) return;
		this.why = `TLS failed: ${(e as Error)?.message ?? e}`;
		this.error();
	}

	/** Ends an attempt that never reached a socket: -2 in a turn of its own (a resolver may
	 * answer inside open(), before the link listens). */
	fail(why: string): void {
		if (this.state === 2) return;
		this.why = why;
		this.close();
		Timer.set(() => this.callback(-2), 0);
	}
}

/** Resolves `host` for `socket` with the app's ECMA-419 resolver, else the SDK's `net`. */
function resolve(dns: IoSocketEntry | undefined, host: string, socket: IoSocket): void {
	if (dns !== undefined) {
		const Resolver = dns.io as new (options: object) => { resolve(request: object): void; close?(): void };
		const resolver = new Resolver(dns);
		const done = (address: string | undefined) => {
			try { resolver.close?.(); } catch { /* a resolver without close */ }
			socket.resolved(address);
		};
		resolver.resolve({ host, onResolved: (_host: string, address: string) => done(address), onError: () => done(undefined) });
		return;
	}
	if (!Modules.has("net")) throw new Error(`${host} is a name: opts.io.dns (an ECMA-419 resolver) or the net module must resolve it`);
	(Modules.importNow("net") as { resolve(host: string, callback: (name: string, address?: string) => void): void })
		.resolve(host, (_name, address) => socket.resolved(address));
}

/** The socket entry of `opts.io` (true: `embedded:io/socket/tcp`, or mqttc/iotls's TLS
 * socket), or why there is none. */
function socketEntry(options: true | IoOptions, tls: IoTlsModule | undefined): IoSocketEntry | string {
	const given = options === true ? undefined : options.socket;
	if (given !== undefined) return typeof given === "object" && given !== null && typeof given.io === "function" ? given : "io.socket must be an ECMA-419 socket entry: {io: TCP, ...}";
	if (tls) return tls.socket();
	if (!Modules.has("embedded:io/socket/tcp")) return "io needs the embedded:io/socket/tcp module: include mqttc's manifest_io.json";
	return { io: Modules.importNow("embedded:io/socket/tcp") as IoConstructor };
}

/** What create() takes through Modules.importNow("mqttc/io"). */
export default Object.freeze({
	/** The transport for `opts.io` (true, or {socket, dns}), TLS when `ssl` is set. */
	transport(options: true | IoOptions, ssl: unknown): Transport | string {
		if (options !== true && (typeof options !== "object" || options === null)) return "io must be true or a table {socket, dns}";
		let tls: IoTlsModule | undefined, secure: SecureDictionary | undefined;
		if (ssl !== undefined && ssl !== null && ssl !== false) {
			if (!Modules.has("mqttc/iotls")) return "io with ssl needs mqttc/iotls: include mqttc's manifest_io_tls.json";
			tls = Modules.importNow("mqttc/iotls") as IoTlsModule;
			const made = tls.secure(ssl);
			if (typeof made === "string") return made;
			secure = made;
		}
		const socket = socketEntry(options, tls);
		if (typeof socket === "string") return socket;
		const dns = options === true ? undefined : options.dns;
		if (dns !== undefined && (typeof dns !== "object" || dns === null || typeof dns.io !== "function")) return "io.dns must be an ECMA-419 resolver entry: {io: Resolver, ...}";
		return new IoTransport(socket, dns, secure, tls);
	},
});
