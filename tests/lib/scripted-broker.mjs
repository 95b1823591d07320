// A broker the test scripts packet by packet (mqtt-packet on Node), for what mosquitto will
// not do on demand: resend QoS 2 with DUP, refuse a CONNACK, split packets, go silent,
// send malformed bytes. Listens on 127.0.0.1 only.
import net from "node:net";
import mqttPacket from "mqtt-packet";

/**
 * `onPacket(conn, packet)` is called for every packet a client sends; by default CONNECT
 * gets CONNACK 0 and PINGREQ gets PINGRESP. conn.send(obj) generates and writes a packet;
 * conn.raw(buffer, pieceSize) writes bytes in pieces (one write each, spaced in time).
 */
export async function startScriptedBroker({ onPacket, onConnection, autoAck = true } = {}) {
	const connections = [];
	const received = [];
	const server = net.createServer((socket) => {
		socket.setNoDelay(true);
		const parser = mqttPacket.parser({ protocolVersion: 4 });
		const conn = {
			socket,
			packets: [],
			send(packet) { if (!socket.destroyed) socket.write(mqttPacket.generate(packet)); },
			async raw(buffer, pieceSize = buffer.length, gapMs = 2) {
				for (let at = 0; at < buffer.length && !socket.destroyed; at += pieceSize) {
					socket.write(buffer.subarray(at, at + pieceSize));
					if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
				}
			},
			close() { socket.destroy(); },
		};
		connections.push(conn);
		parser.on("packet", (packet) => {
			conn.packets.push(packet);
			received.push(packet);
			const handled = onPacket?.(conn, packet);
			if (handled || !autoAck) return;
			if (packet.cmd === "connect") conn.send({ cmd: "connack", returnCode: 0, sessionPresent: false });
			else if (packet.cmd === "pingreq") conn.send({ cmd: "pingresp" });
		});
		parser.on("error", (e) => { conn.error = e; socket.destroy(); });
		socket.on("data", (d) => parser.parse(d));
		socket.on("error", () => {});
		onConnection?.(conn);
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		port: server.address().port,
		connections,
		received,
		/** Waits until a packet satisfying `predicate` has been received from any client. */
		async waitPacket(predicate, ms = 10000) {
			const deadline = Date.now() + ms;
			for (;;) {
				const found = received.find(predicate);
				if (found) return found;
				if (Date.now() > deadline) throw new Error(`scripted broker: no such packet within ${ms} ms; got ${received.map((p) => p.cmd).join(",")}`);
				await new Promise((r) => setTimeout(r, 5));
			}
		},
		async stop() {
			for (const c of connections) c.socket.destroy();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}
