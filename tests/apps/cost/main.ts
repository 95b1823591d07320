/*
 * Cost bench app (tests/cost.bench.mjs, tests/cost.test.mjs): one mqttc client behind the
 * bench socket and timer, connected by a scripted CONNACK. Each exported function does n
 * messages in one turn, so the host's XS meter gives compute and slots per message.
 */
import mqtt from "mqttc";
import { Socket as AnySocket } from "socket";
import type { Socket as BenchSocket } from "./benchsocket";
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
	socket: Socket | undefined;
	/** Packets the "broker" sends: prepared before a measured turn. */
	inbound = new Uint8Array(0);
	received = 0;
	sent = 0;
	topic = "bench/topic/0123";   // 16 bytes, as in the method
	payload: string | Uint8Array = "";
}
const bench = new Bench();

/** Runs the XS garbage collector (xsnap's gc global), so the next turn starts clean. */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}

/** Creates a client and connects it through a scripted CONNACK. */
export function setup(opts: Record<string, unknown> = {}): boolean {
	bench.client?.close();
	const client = mqtt.create(null, "bench.invalid", 1883, false, { rxSize: 8192, inflight: 65535, outbox: 1 << 24, ...opts });
	if (!client) return false;
	bench.client = client;
	client.on((_c, event) => {
		if (event === "recv") bench.received++;
		else if (event === "sent") bench.sent++;
	});
	client.connect();
	const socket = bench.socket = Socket.last!;
	socket.callback(1);
	const connack = Uint8Array.of(0x20, 2, 0, 0);
	socket.deliver(connack, 0, 4);
	return client.ready();
}

/** The payload of the next publishes: `size` bytes of text. */
export function usePayload(size: number, binary = false): void {
	bench.payload = binary ? new Uint8Array(size).fill(0x41) : "x".repeat(size);
}

/** n publishes at `qos`; for QoS 1/2 the broker's acknowledgements are delivered after each. */
export function publish(n: number, qos: number): number {
	const client = bench.client!;
	const socket = bench.socket!;
	const ack = new Uint8Array(4);
	for (let i = 0; i < n; i++) {
		const id = client.publish(bench.topic, bench.payload, qos) as number;
		if (qos === 0) continue;
		ack[0] = qos === 1 ? 0x40 : 0x50;   // PUBACK or PUBREC
		ack[1] = 2;
		ack[2] = id >> 8;
		ack[3] = id & 0xFF;
		socket.deliver(ack, 0, 4);
		if (qos === 2) {
			ack[0] = 0x70;                    // PUBCOMP
			socket.deliver(ack, 0, 4);
		}
	}
	return bench.sent;
}

/** Prepares one PUBLISH the broker will send: `size` bytes of text at `qos`. */
export function prepareInbound(size: number, qos: number): number {
	const packet = publishPacket(bench.topic, size, qos);
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
	const release = (packet[0] & 0x06) === 0x04 ? Uint8Array.of(0x62, 2, 0, 1) : undefined;   // PUBREL id 1
	for (let i = 0; i < n; i++) {
		for (let at = 0; at < length; at += step) socket.deliver(packet, at, Math.min(length, at + step));
		if (release) socket.deliver(release, 0, 4);
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
