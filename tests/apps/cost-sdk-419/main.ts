/*
 * Cost bench app for the Moddable SDK's ECMA-419 MQTT client (examples/io/tcp/mqttclient;
 * tests/cost.bench.mjs with $MODDABLE set): the client is loaded from the SDK at run time
 * ($(SDK_UNDER_TEST) in the manifest) and given the bench's TCP and DNS stand-ins
 * (./benchnetwork) as `socket.io` / `dns.io`, the way `device.network.mqtt` hands a device's.
 * The exported functions match tests/apps/cost/main.ts, so tests/lib/cost.mjs measureScenario
 * drives all three clients the same way.
 * The client sends PUBACK (for a QoS 1 message) and PUBREL (for a PUBREC) from a zero-delay
 * timer: the bench runs it with Timer.runImmediate() right after each delivery, inside the
 * measured turn, so the acknowledgement's cost is counted with its message.
 * The app's part is what any app of this API does: onReadable reads the payload into a fresh
 * ArrayBuffer; publish writes an ArrayBuffer payload (the API takes buffers only) with a
 * write-options object made once per QoS.
 */
import MQTTClient from "mqttclient";
import type { ReadableOptions, ControlMessage, WriteOptions } from "mqttclient";
import { BenchTCP, BenchDNS } from "cost-sdk/benchnetwork";
import AnyTimer from "timer";
import { publishPacket, fillAck } from "cost-sdk/inbound";
import type QueuedTimer from "../cost-sdk-common/queuedtimer";

// The manifest maps "timer" to the queued stand-in; the typings only know the real one.
const Timer = AnyTimer as unknown as typeof QueuedTimer;

class Bench {
	client: MQTTClient | null = null;
	socket: BenchTCP | undefined;
	ready = false;
	/** The id the client gives its next publish: it counts from 2, one per publish of any QoS. */
	nextId = 2;
	inbound = new Uint8Array(0);
	received = 0;
	sent = 0;
	topic = "bench/topic/0123";   // 16 bytes, as in the method
	payload = new ArrayBuffer(0);
	/** Write options per QoS, made once by usePayload. */
	options: WriteOptions[] = [];
}
const bench = new Bench();

function onReadable(this: MQTTClient, count: number, options: ReadableOptions): void {
	this.read(count);
	if (!options.more)
		bench.received++;
}

function onControl(message: ControlMessage): void {
	const operation = message.operation;
	if (operation === MQTTClient.CONNACK)
		bench.ready = !message.returnCode;
	else if (operation === MQTTClient.PUBACK || operation === MQTTClient.PUBCOMP)
		bench.sent++;
}

function onError(): void {
	bench.ready = false;
}

/** Runs the XS garbage collector (xsnap's gc global), so the next turn starts clean. */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}

/** Creates a client and connects it through a scripted CONNACK. */
export function setup(): boolean {
	bench.client?.close();
	bench.ready = false;
	bench.nextId = 2;
	bench.client = new MQTTClient({
		host: "bench.invalid", port: 1883, id: "",
		dns: { io: BenchDNS }, socket: { io: BenchTCP },
		onReadable, onControl, onError,
	});
	const socket = bench.socket = BenchTCP.last!;
	socket.connected();                        // the client writes CONNECT
	socket.deliver(Uint8Array.of(0x20, 2, 0, 0), 0, 4);
	Timer.runImmediate();
	return bench.ready;
}

/** The payload of the next publishes: `size` bytes of text, as an ArrayBuffer. */
export function usePayload(size: number, _binary = false): void {
	bench.payload = ArrayBuffer.fromString("x".repeat(size));
	bench.options = [0, 1, 2].map((QoS) => ({ topic: bench.topic, QoS }));
}

/** n publishes at `qos`; for QoS 1/2 the broker's acknowledgements are delivered after each. */
export function publish(n: number, qos: number): number {
	const client = bench.client!;
	const socket = bench.socket!;
	const options = bench.options[qos];
	const ack = new Uint8Array(4);
	for (let i = 0; i < n; i++) {
		client.write(bench.payload, options);
		const id = bench.nextId++;
		if (qos === 0)
			continue;
		socket.deliver(fillAck(ack, qos === 1 ? 0x40 : 0x50, id), 0, 4);   // PUBACK or PUBREC
		Timer.runImmediate();                                                // QoS 2: PUBREL
		if (qos === 2) {
			socket.deliver(fillAck(ack, 0x70, id), 0, 4);                   // PUBCOMP
			Timer.runImmediate();
		}
	}
	return bench.sent;
}

/** Prepares one PUBLISH the broker will send: `size` bytes of text at `qos`. */
export function prepareInbound(size: number, qos: number): number {
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
			Timer.runImmediate();                                            // QoS 1: PUBACK
		}
	}
	return bench.received;
}

/** n zero-delay timers set and run with an empty callback: the bench's own share of an ack. */
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
