// A broker scripted byte for byte, in the style of the mosquitto project's client tests
// (its test/lib): the test names the exact packet it expects next from the client and what to
// send back; any other byte fails the test. Packets are framed by their fixed header only, so
// a malformed or unexpected packet is reported as the bytes it is. Listens on 127.0.0.1 only.
import net from "node:net";
import mqttPacket from "mqtt-packet";

/** A packet as bytes, from an mqtt-packet object (an implementation that is not ours). */
export const bytes = (packet) => mqttPacket.generate({ protocolId: "MQTT", protocolVersion: 4, ...packet });
export const hex = (packet) => bytes(packet).toString("hex");

/** Length of the whole packet at the front of `buffer`, or 0 while it is incomplete. */
function packetLength(buffer) {
	let length = 0;
	for (let i = 1, shift = 0; i < 5; i++, shift += 7) {
		if (i >= buffer.length) return 0;
		length += (buffer[i] & 0x7F) << shift;
		if (!(buffer[i] & 0x80)) return buffer.length >= 1 + i + length ? 1 + i + length : 0;
	}
	return 1 + 5 + length;   // five length bytes: malformed, handed over as it is
}

export async function startByteBroker() {
	const pending = [];       // connections not yet taken by accept()
	const waiters = [];
	const all = [];
	const server = net.createServer((socket) => {
		socket.setNoDelay(true);
		let input = Buffer.alloc(0);
		const packets = [];
		let wake;
		const conn = {
			socket,
			ended: false,
			/** Waits for the client's next packet and checks it is exactly `expected` (hex). */
			async expect(name, expected, ms = 5000) {
				const deadline = Date.now() + ms;
				while (!packets.length) {
					if (conn.ended) throw new Error(`expected ${name} (${expected}); the client closed the connection`);
					if (Date.now() > deadline) throw new Error(`expected ${name} (${expected}) within ${ms} ms; nothing came`);
					await new Promise((resolve) => { wake = resolve; setTimeout(resolve, 20); });
				}
				const got = packets.shift().toString("hex");
				if (got !== expected) throw new Error(`expected ${name}\n  ${expected}\ngot\n  ${got}`);
			},
			/** Packets received and not yet expected (hex). */
			unread: () => packets.map((p) => p.toString("hex")),
			send(packet) { if (!socket.destroyed) socket.write(typeof packet === "string" ? Buffer.from(packet, "hex") : bytes(packet)); },
			close() { socket.destroy(); },
		};
		socket.on("data", (data) => {
			input = Buffer.concat([input, data]);
			for (let n; (n = packetLength(input)) !== 0;) {
				packets.push(input.subarray(0, n));
				input = input.subarray(n);
			}
			wake?.();
		});
		socket.on("close", () => { conn.ended = true; wake?.(); });
		socket.on("error", () => {});
		all.push(conn);
		if (waiters.length) waiters.shift()(conn);
		else pending.push(conn);
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		port: server.address().port,
		connections: all,
		/** The next connection a client opens. */
		accept(ms = 10000) {
			if (pending.length) return Promise.resolve(pending.shift());
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
				waiters.push((conn) => { clearTimeout(timer); resolve(conn); });
			});
		},
		async stop() {
			for (const conn of all) conn.socket.destroy();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}
