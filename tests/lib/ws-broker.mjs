// Aedes behind a WebSocket endpoint (the npm `ws` package): a real MQTT-over-WebSocket broker
// on 127.0.0.1, as MQTT.js users run it. The upgrade must ask for the "mqtt" subprotocol.
import http from "node:http";
import https from "node:https";
import { Aedes } from "aedes";
import { WebSocketServer, createWebSocketStream } from "ws";

/** `tls`: {cert, key} (PEM) for wss, capped at TLS 1.2 as Moddable's TLS is. */
export async function startAedesWs({ path = "/mqtt", tls } = {}) {
	const aedes = await Aedes.createBroker();
	const server = tls ? https.createServer({ ...tls, maxVersion: "TLSv1.2" }) : http.createServer();
	const wss = new WebSocketServer({ server, path, handleProtocols: (protocols) => (protocols.has("mqtt") ? "mqtt" : false) });
	const upgrades = [];
	const sockets = [];
	wss.on("connection", (ws, request) => {
		upgrades.push(request.headers);
		sockets.push(ws);
		aedes.handle(createWebSocketStream(ws));
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		port: server.address().port,
		aedes,
		/** The request headers of each upgrade, in order. */
		upgrades,
		/** Drops the last WebSocket opened, without a close frame (the network failing). */
		dropLast() { sockets.at(-1)?.terminate(); },
		async stop() {
			for (const client of wss.clients) client.terminate();
			await new Promise((resolve) => wss.close(resolve));
			await new Promise((resolve) => server.close(resolve));
			await new Promise((resolve) => aedes.close(resolve));
		},
	};
}
