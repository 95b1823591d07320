/*
 * Cost bench app for the Moddable SDK's own `mqtt.js` (tests/cost.bench.mjs with $MODDABLE
 * set): the client is loaded from the SDK at run time ($(SDK_UNDER_TEST) in the manifest),
 * behind mqttc's bench socket (tests/apps/cost/benchsocket: one callback per piece, read()
 * returns a fresh buffer, write() returns free space) and the queued timer
 * (tests/apps/cost-sdk-common/queuedtimer). The exported functions match tests/apps/cost/main.ts,
 * so tests/lib/cost.mjs measureScenario drives all three clients the same way.
 * mqtt.js does QoS 0 only: it sends no PUBACK and ignores the broker's, so publish and receive
 * at QoS 1/2 are not measured for it.
 * mqtt.js hands every received message (and the CONNACK) to a zero-delay timer; the bench runs
 * it with Timer.runImmediate() right after each delivery, inside the measured turn, so the
 * message's full cost (including onMessage) is counted.
 */
import Client from "mqtt";
import { Socket as AnySocket } from "socket";
import AnyTimer from "timer";
import { publishPacket } from "cost-sdk/inbound";
import type { Socket as BenchSocket } from "../cost/benchsocket";
import type QueuedTimer from "../cost-sdk-common/queuedtimer";

// The manifest maps "socket" and "timer" to the stand-ins; the typings only know the real ones.
const Socket = AnySocket as unknown as typeof BenchSocket;
const Timer = AnyTimer as unknown as typeof QueuedTimer;

class Bench {
	client: Client | null = null;
	socket: BenchSocket | undefined;
	ready = false;
	inbound = new Uint8Array(0);
	received = 0;
	sent = 0;
	topic = "bench/topic/0123";   // 16 bytes, as in the method
	payload: string | ArrayBuffer = "";
}
const bench = new Bench();

/** Runs the XS garbage collector (xsnap's gc global), so the next turn starts clean. */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}

/** Creates a client and connects it through a scripted CONNACK. */
export function setup(): boolean {
	bench.client?.close();
	bench.ready = false;
	const client = bench.client = new Client({ host: "bench.invalid", port: 1883, id: "" });
	client.onReady = () => { bench.ready = true; };
	client.onMessage = () => { bench.received++; };
	client.onClose = () => { bench.ready = false; };
	const socket = bench.socket = Socket.last!;
	socket.callback(1);                        // connected: mqtt.js writes CONNECT
	socket.deliver(Uint8Array.of(0x20, 2, 0, 0), 0, 4);
	Timer.runImmediate();                      // mqtt.js reports the CONNACK from a timer
	return bench.ready;
}

/** The payload of the next publishes: `size` bytes of text, a string as mqttc's bench passes. */
export function usePayload(size: number, binary = false): void {
	bench.payload = binary ? ArrayBuffer.fromString("A".repeat(size)) : "x".repeat(size);
}

/** n publishes at QoS 0 (mqtt.js has no other). */
export function publish(n: number, qos: number): number {
	if (qos !== 0)
		throw new Error("mqtt.js publishes at QoS 0 only");
	const client = bench.client!;
	for (let i = 0; i < n; i++)
		client.publish(bench.topic, bench.payload);
	bench.sent += n;
	return bench.sent;
}

/** Prepares one PUBLISH the broker will send: `size` bytes of text at QoS 0. */
export function prepareInbound(size: number, qos: number): number {
	if (qos !== 0)
		throw new Error("mqtt.js acknowledges nothing: QoS 0 only");
	bench.inbound = publishPacket(bench.topic, size, qos);
	return bench.inbound.length;
}

/** The prepared PUBLISH arrives n times, each in pieces of `piece` bytes (0: whole). */
export function receive(n: number, piece: number): number {
	const socket = bench.socket!;
	const packet = bench.inbound;
	const length = packet.length;
	const step = piece > 0 ? piece : length;
	for (let i = 0; i < n; i++) {
		for (let at = 0; at < length; at += step) {
			socket.deliver(packet, at, Math.min(length, at + step));
			Timer.runImmediate();
		}
	}
	return bench.received;
}

/** n zero-delay timers set and run with an empty callback: the bench's own share of a receive. */
export function timerOverhead(n: number): number {
	const nothing = () => {};
	for (let i = 0; i < n; i++) {
		Timer.set(nothing);
		Timer.runImmediate();
	}
	return n;
}

export function counts(): { received: number; sent: number; written: number; ready: boolean } {
	return { received: bench.received, sent: bench.sent, written: bench.socket?.written ?? 0, ready: bench.ready };
}

export default function main(): void {
}
