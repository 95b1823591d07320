/*
 * Cost bench app (tests/cost.bench.mjs, tests/cost.test.mjs): one mqttc client behind the
 * bench socket and timer, connected by a scripted CONNACK. Each exported function does n
 * messages in one turn, so the host's XS meter gives compute and slots per message.
 */
import mqtt from "mqttc";
import { Socket as AnySocket } from "socket";
import type { Socket as BenchSocket } from "./benchsocket";
import Modules from "modules";
import type { BenchTCP } from "cost-sdk/benchnetwork";
import { publishPacket } from "bench/inbound";
import { counting, calibration, countConversions, conversionCalibrator } from "bench/calls";
import { countSocket, socketCalibrator } from "bench/socketcalls";
import { countTimer, timerCalibrator } from "bench/timercalls";

// The manifest maps "socket" to the bench socket; the typings only know the real one.
const Socket = AnySocket as unknown as typeof BenchSocket;
type Socket = BenchSocket;

type Client = NonNullable<ReturnType<typeof mqtt.create>>;

class Bench {
	client: Client | null = null;
	/** The stand-in the client opened: the classic socket, or with setup({io}) the ECMA-419 one. */
	socket: Socket | BenchTCP | undefined;
	/** Packets the "broker" sends: prepared before a measured turn. */
	inbound = new Uint8Array(0);
	received = 0;
	sent = 0;
	topic = "bench/topic/0123";   // 16 bytes, as in the method
	payload: string | Uint8Array = "";
	/** The client speaks WebSocket (setup({websocket})): what the "broker" sends is framed. */
	ws = false;
}
const bench = new Bench();

/** Runs the XS garbage collector (xsnap's gc global), so the next turn starts clean. */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}

/** Creates a client and connects it through a scripted CONNACK. */
export function setup(opts: Record<string, unknown> = {}): boolean {
	bench.client?.close();
	bench.ws = opts.websocket !== undefined;
	// With WebSocket, the upgrade's key comes from Math.random: made 0 while the socket opens,
	// the key is 16 zero bytes and the accept below is known.
	const random = Math.random;
	if (bench.ws) Math.random = () => 0;
	const client = mqtt.create(null, opts.io !== undefined ? "127.0.0.1" : "bench.invalid", 1883, false, { rxSize: 8192, inflight: 65535, outbox: 1 << 24, ...opts });
	if (!client) return false;
	bench.client = client;
	client.on((_c, event) => {
		if (event === "recv") bench.received++;
		else if (event === "sent") bench.sent++;
	});
	client.connect();
	let socket: Socket | BenchTCP;
	if (opts.io !== undefined) {
		// The manifest maps it to the bench's stand-in, as mqttc/io finds it.
		const tcp = socket = (Modules.importNow("embedded:io/socket/tcp") as typeof BenchTCP).last!;
		tcp.connected();
	}
	else {
		const classic = socket = Socket.last!;
		classic.callback(1);
	}
	bench.socket = socket;
	Math.random = random;
	if (bench.ws) {
		const answer = new Uint8Array(ArrayBuffer.fromString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ICX+Yqv66kxgM0FcWaLWlFLwTAI=\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"));
		socket.deliver(answer, 0, answer.length);
	}
	const connack = framed(Uint8Array.of(0x20, 2, 0, 0));
	socket.deliver(connack, 0, connack.length);
	return client.ready();
}

/** A packet as the broker sends it: as it is, or in one unmasked binary WebSocket frame. */
function framed(packet: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
	if (!bench.ws) return packet;
	const n = packet.length;
	const head = n < 126 ? [0x82, n] : n < 65536 ? [0x82, 126, n >> 8, n & 0xFF] : [0x82, 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF];
	const frame = new Uint8Array(head.length + n);
	frame.set(head);
	frame.set(packet, head.length);
	return frame;
}

/** The payload of the next publishes: `size` bytes of text. */
export function usePayload(size: number, binary = false): void {
	bench.payload = binary ? new Uint8Array(size).fill(0x41) : "x".repeat(size);
}

/** n publishes at `qos`; for QoS 1/2 the broker's acknowledgements are delivered after each. */
export function publish(n: number, qos: number): number {
	const client = bench.client!;
	const socket = bench.socket!;
	const ack = bench.ws ? Uint8Array.of(0x82, 4, 0, 0, 0, 0) : new Uint8Array(4);   // framed: behind a 2-byte header
	const at = ack.length - 4;
	for (let i = 0; i < n; i++) {
		const id = client.publish(bench.topic, bench.payload, qos) as number;
		if (qos === 0) continue;
		ack[at] = qos === 1 ? 0x40 : 0x50;   // PUBACK or PUBREC
		ack[at + 1] = 2;
		ack[at + 2] = id >> 8;
		ack[at + 3] = id & 0xFF;
		socket.deliver(ack, 0, ack.length);
		if (qos === 2) {
			ack[at] = 0x70;                    // PUBCOMP
			socket.deliver(ack, 0, ack.length);
		}
	}
	return bench.sent;
}

/** Prepares one PUBLISH the broker will send: `size` bytes of text at `qos`. */
export function prepareInbound(size: number, qos: number): number {
	const packet = framed(publishPacket(bench.topic, size, qos));
	bench.inbound = packet;
	return packet.length;
}

/** The prepared PUBLISH arrives n times, each in pieces of `piece` bytes (0: whole). At QoS 2
 * the broker's PUBREL follows each (the client answers PUBCOMP), so the id is free again. */
export function receive(n: number, piece: number): number {
	const socket = bench.socket!;
	const packet = bench.inbound;
	const length = packet.length;
	const step = piece > 0 ? piece : length;
	const qos2 = ((bench.ws ? packet[packet[1] < 126 ? 2 : 4] : packet[0]) & 0x06) === 0x04;
	const release = qos2 ? framed(Uint8Array.of(0x62, 2, 0, 1)) : undefined;   // PUBREL id 1
	for (let i = 0; i < n; i++) {
		for (let at = 0; at < length; at += step) socket.deliver(packet, at, Math.min(length, at + step));
		if (release) socket.deliver(release, 0, release.length);
	}
	return bench.received;
}

export function counts(): { received: number; sent: number; ready: boolean } {
	return { received: bench.received, sent: bench.sent, ready: bench.client?.ready() ?? false };
}

/** Counting the calls into the stand-ins, in turns of their own (tests/lib/cost.mjs
 * countScenario): the measured turns run the stand-ins as they are. */
export const { countStart, countTake, countStop } = counting(() => {
	countSocket();
	countTimer();
	countConversions();
});

/** Timing one stand-in call against its native reference (tests/lib/cost.mjs calibrateCall). */
export const { calibrateInfo, calibratePrepare, calibrate, calibrateDone } =
	calibration((key) => socketCalibrator(key) ?? timerCalibrator(key) ?? conversionCalibrator(key));

export default function main(): void {
}
