/*
 * mqttc/ws (manifest_ws.json): MQTT over WebSocket [MQTT 3.1.1 section 6, RFC 6455], a
 * transport the link opens instead of its plain Socket (or over the TLS transport's socket:
 * wss), chosen by `opts.websocket`. The HTTP upgrade (subprotocol "mqtt") happens before the
 * link hears of the connection (message 1), so conn_timeout covers it, and a refused upgrade
 * is the transport's failure() text; the frames are mqttc/wssocket's.
 */

import { Socket } from "socket";
import { Digest } from "crypt";
import { WsSocket } from "mqttc/wssocket";
import type { LinkSocket, Transport, WsOptions } from "mqttc/types";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

class WsTransport implements Transport {
	declare readonly label: string;
	declare path: string;
	declare inner: Transport | undefined;

	constructor(path: string, inner: Transport | undefined) {
		this.path = path;
		this.inner = inner;
		this.label = `${inner ? inner.label : ""} (WebSocket ${path})`;
	}

	open(host: string, port: number): LinkSocket {
		const socket = this.inner ? this.inner.open(host, port) : new Socket({ host, port, noDelay: true } as { host: string; port: number }) as unknown as LinkSocket;
		const key = base64(random(16));
		const digest = new Digest("SHA1");
		digest.write(key + GUID);
		const request = `GET ${this.path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
		const accept = base64(new Uint8Array(digest.close()));
		return new WsSocket(socket, request, (answer) => refusal(answer, accept));
	}

	restart(): void {
		this.inner?.restart();
	}

	retry(socket: LinkSocket | undefined, link: { note(text: string): void }): boolean {
		const ws = socket as WsSocket | undefined;
		return ws?.why === undefined && this.inner !== undefined && this.inner.retry(ws?.inner, link);
	}

	failure(socket: LinkSocket | undefined, error?: unknown): string {
		const ws = socket as WsSocket | undefined;
		if (ws?.why !== undefined) return ws.why;
		if (this.inner) return this.inner.failure(ws?.inner, error);
		return error !== undefined ? `cannot open connection: ${(error as Error).message}` : "connection failed";
	}

	broken(socket: LinkSocket | undefined): string | undefined {
		return (socket as WsSocket | undefined)?.why;
	}
}

/** Why the upgrade's answer (its header, up to the empty line) refuses the WebSocket, or
 * undefined: 101, Upgrade: websocket, the key's Sec-WebSocket-Accept, subprotocol "mqtt". */
function refusal(answer: string, accept: string): string | undefined {
	const lines = answer.split("\r\n");
	const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0]);
	const headers = new Map<string, string>();
	for (let i = 1; i < lines.length; i++) {
		const colon = lines[i].indexOf(":");
		if (colon > 0) headers.set(lines[i].slice(0, colon).trim().toLowerCase(), lines[i].slice(colon + 1).trim());
	}
	const protocol = headers.get("sec-websocket-protocol");
	if (status === null) return `WebSocket upgrade: not an HTTP answer ("${lines[0].slice(0, 40)}")`;
	if (status[1] !== "101") return `WebSocket upgrade refused: ${lines[0].slice(9, 60)}`;
	if (headers.get("upgrade")?.toLowerCase() !== "websocket" || headers.get("sec-websocket-accept") !== accept) return "WebSocket upgrade: not a WebSocket answer (Upgrade or Sec-WebSocket-Accept)";
	if (protocol !== "mqtt") return `WebSocket upgrade: subprotocol ${protocol === undefined ? "missing" : `"${protocol}"`}, not "mqtt"`;
	return undefined;
}

/** `count` random bytes (the key of the upgrade). */
function random(count: number): Uint8Array {
	const bytes = new Uint8Array(count);
	for (let i = 0; i < count; i++) bytes[i] = (Math.random() * 256) | 0;
	return bytes;
}

/** Base64 of a few bytes (the upgrade's key and its answer: 16 and 20 bytes, once per connection). */
function base64(bytes: Uint8Array): string {
	let text = "";
	for (let i = 0; i < bytes.length; i += 3) {
		const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
		text += BASE64[n >> 18] + BASE64[(n >> 12) & 63] + (i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : "=") + (i + 2 < bytes.length ? BASE64[n & 63] : "=");
	}
	return text;
}

/** What create() takes through Modules.importNow("mqttc/ws"). */
export default Object.freeze({
	/** The transport for `opts.websocket` (true, or {path}), over `inner` (TLS) if given. */
	transport(options: true | WsOptions, inner: Transport | undefined): Transport | string {
		const path = options === true ? "/mqtt" : options.path ?? "/mqtt";
		if (typeof path !== "string" || path[0] !== "/" || /[\s\x00-\x1F]/.test(path)) return "websocket.path must start with / and hold no spaces";
		return new WsTransport(path, inner);
	},
});
