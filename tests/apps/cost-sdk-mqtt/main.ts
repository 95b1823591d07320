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
import { bench, Timer } from "cost-sdk/bench";
import type { Socket as BenchSocket } from "../cost/benchsocket";
import { counting, calibration, countConversions, conversionCalibrator } from "bench/calls";
import { countSocket, socketCalibrator } from "bench/socketcalls";
import { countQueuedTimer, queuedTimerCalibrator } from "cost-sdk/timercalls";

export { collect, prepareInbound, receive, counts } from "cost-sdk/bench";

// The manifest maps "socket" to mqttc's bench socket; the typings only know the real one.
const Socket = AnySocket as unknown as typeof BenchSocket;

/** This client's part of the bench: the client and the payload it publishes. */
const mqttjs: { client: Client | null; payload: string | ArrayBuffer } = { client: null, payload: "" };

/** Creates a client and connects it through a scripted CONNACK. */
export function setup(): boolean {
	mqttjs.client?.close();
	bench.ready = false;
	const client = mqttjs.client = new Client({ host: "bench.invalid", port: 1883, id: "" });
	client.onReady = () => { bench.ready = true; };
	client.onMessage = () => { bench.received++; };
	client.onClose = () => { bench.ready = false; };
	const socket = bench.socket = Socket.last!;
	socket.callback(1);                        // connected: mqtt.js writes CONNECT
	socket.deliver(Uint8Array.of(0x20, 2, 0, 0), 0, 4);
	Timer.runImmediate();                      // mqtt.js reports the CONNACK from a timer
	return bench.ready;
}

/**
 * The payload of the next publishes: `size` bytes of text, a string as mqttc's bench passes
 * (binary: an ArrayBuffer, which mqtt.js need not convert).
 */
export function usePayload(size: number, binary = false): void {
	mqttjs.payload = binary ? ArrayBuffer.fromString("x".repeat(size)) : "x".repeat(size);
}

/** n publishes at QoS 0 (mqtt.js has no other). */
export function publish(n: number, qos: number): number {
	if (qos !== 0)
		throw new Error("mqtt.js publishes at QoS 0 only");
	const client = mqttjs.client!;
	for (let i = 0; i < n; i++)
		client.publish(bench.topic, mqttjs.payload);
	bench.sent += n;
	return bench.sent;
}

/** Counting the calls into the stand-ins, in turns of their own (tests/lib/cost.mjs
 * countScenario): the measured turns run the stand-ins as they are. */
export const { countStart, countTake, countStop } = counting(() => {
	countSocket();
	countQueuedTimer();
	countConversions();
});

/** Timing one stand-in call against its native reference (tests/lib/cost.mjs calibrateCall). */
export const { calibrateInfo, calibratePrepare, calibrate, calibrateDone } =
	calibration((key) => socketCalibrator(key) ?? queuedTimerCalibrator(key) ?? conversionCalibrator(key));

export default function main(): void {
}
