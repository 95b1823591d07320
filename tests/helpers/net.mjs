// Generic network helpers for tests (loopback only).
import net from "node:net";

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort() {
	const server = net.createServer();
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", resolve);
	});
	const { port } = /** @type {net.AddressInfo} */ (server.address());
	await new Promise(resolve => server.close(resolve));
	return port;
}

/** Waits until something accepts TCP connections on 127.0.0.1:port, polling every `everyMs`. */
export async function listening(port, ms = 5000, everyMs = 50) {
	const deadline = Date.now() + ms;
	for (;;) {
		const ok = await new Promise((resolve) => {
			const socket = net.connect(port, "127.0.0.1");
			socket.once("connect", () => { socket.destroy(); resolve(true); });
			socket.once("error", () => resolve(false));
		});
		if (ok) return;
		if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
		await new Promise((r) => setTimeout(r, everyMs));
	}
}

/**
 * Listen on 127.0.0.1 with an ephemeral port; returns the port.
 * @param {net.Server} server
 */
export async function listen(server) {
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", resolve);
	});
	return /** @type {net.AddressInfo} */ (server.address()).port;
}

/**
 * A TCP (or TLS, given a server factory) server that records connections and bytes.
 * `onConnection(socket)` may script the peer; received bytes are collected per connection.
 * @param {{createServer?: (listener: (s: net.Socket) => void) => net.Server, onConnection?: (s: net.Socket, conn: Connection) => void}} [options]
 */
export async function recordingServer(options = {}) {
	/** @type {Connection[]} */
	const connections = [];
	/** @type {((c: Connection) => void)[]} */
	const waiting = [];
	const create = options.createServer ?? (listener => net.createServer(listener));
	const server = create(socket => {
		/** @type {Connection} */
		const conn = { socket, chunks: [], get received() { return Buffer.concat(this.chunks); }, closed: false };
		socket.on("data", chunk => conn.chunks.push(chunk));
		socket.on("close", () => { conn.closed = true; });
		socket.on("error", () => {});
		connections.push(conn);
		options.onConnection?.(socket, conn);
		for (const resolve of waiting.splice(0))
			resolve(conn);
	});
	const port = await listen(server);
	return {
		port,
		server,
		connections,
		/** the next (or an existing, by index) connection, bounded by `timeoutMs` */
		connection(index = 0, timeoutMs = 5000) {
			if (connections[index])
				return Promise.resolve(connections[index]);
			return withTimeout(new Promise(resolve => {
				const check = () => connections[index] ? resolve(connections[index]) : waiting.push(check);
				waiting.push(check);
			}), timeoutMs, `connection #${index}`);
		},
		async close() {
			for (const c of connections)
				c.socket.destroy();
			await new Promise(resolve => server.close(resolve));
		},
	};
}

/**
 * @typedef {{socket: net.Socket, chunks: Buffer[], received: Buffer, closed: boolean}} Connection
 */

/**
 * @template T
 * @param {Promise<T>} promise @param {number} ms @param {string} what
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
	let timer;
	return Promise.race([
		promise,
		new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); }),
	]).finally(() => clearTimeout(timer));
}

/**
 * Poll `predicate` (sync or async) until it returns a truthy value; bounded.
 * @template T
 * @param {() => T | Promise<T>} predicate @param {{timeout?: number, interval?: number, what?: string}} [options]
 * @returns {Promise<T>}
 */
export async function until(predicate, { timeout = 5000, interval = 10, what = "condition" } = {}) {
	const deadline = Date.now() + timeout;
	for (;;) {
		const value = await predicate();
		if (value)
			return value;
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, interval));
	}
}
