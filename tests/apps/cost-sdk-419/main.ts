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
import { bench, Timer } from "cost-sdk/bench";
import { fillAck } from "bench/inbound";
import { counting, calibration, countConversions, conversionCalibrator } from "bench/calls";
import { countTCP, tcpCalibrator } from "cost-sdk/tcpcalls";
import { countQueuedTimer, queuedTimerCalibrator } from "cost-sdk/timercalls";

export { collect, prepareInbound, receive, counts } from "cost-sdk/bench";

/** This client's part of the bench: the client, its packet ids, what it publishes. */
class Client419 {
	client: MQTTClient | null = null;
	socket: BenchTCP | undefined;
	/** The id the client gives its next publish: it counts from 2, one per publish of any QoS. */
	nextId = 2;
	payload = new ArrayBuffer(0);
	/** Write options per QoS, made once by usePayload. */
	options: WriteOptions[] = [];
}
const c419 = new Client419();

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

/** Creates a client and connects it through a scripted CONNACK. */
export function setup(): boolean {
	c419.client?.close();
	bench.ready = false;
	c419.nextId = 2;
	c419.client = new MQTTClient({
		host: "bench.invalid", port: 1883, id: "",
		dns: { io: BenchDNS }, socket: { io: BenchTCP },
		onReadable, onControl, onError,
	});
	const socket = bench.socket = c419.socket = BenchTCP.last!;
	socket.connected();                        // the client writes CONNECT
	socket.deliver(Uint8Array.of(0x20, 2, 0, 0), 0, 4);
	Timer.runImmediate();
	return bench.ready;
}

/** The payload of the next publishes: `size` bytes of text, as an ArrayBuffer. */
export function usePayload(size: number, _binary = false): void {
	c419.payload = ArrayBuffer.fromString("x".repeat(size));
	c419.options = [0, 1, 2].map((QoS) => ({ topic: bench.topic, QoS }));
}

/** n publishes at `qos`; for QoS 1/2 the broker's acknowledgements are delivered after each. */
export function publish(n: number, qos: number): number {
	const client = c419.client!;
	const socket = c419.socket!;
	const options = c419.options[qos];
	const ack = new Uint8Array(4);
	for (let i = 0; i < n; i++) {
		client.write(c419.payload, options);
		const id = c419.nextId++;
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

/** Counting the calls into the stand-ins, in turns of their own (tests/lib/cost.mjs
 * countScenario): the measured turns run the stand-ins as they are. */
export const { countStart, countTake, countStop } = counting(() => {
	countTCP(c419.socket!);
	countQueuedTimer();
	countConversions();
});

/** Timing one stand-in call against its native reference (tests/lib/cost.mjs calibrateCall). */
export const { calibrateInfo, calibratePrepare, calibrate, calibrateDone } =
	calibration((key) => tcpCalibrator(key) ?? queuedTimerCalibrator(key) ?? conversionCalibrator(key));

export default function main(): void {
}
