/*
 * What the SDK cost bench apps share: the bench's state and the exported functions that do
 * not depend on the client's API. Each app's main re-exports them, so tests/lib/cost.mjs
 * calls the same names on all three clients' apps (as tests/apps/cost/main.ts has them).
 */
import AnyTimer from "timer";
import { publishPacket, deliverPieces } from "bench/inbound";
import type QueuedTimer from "./queuedtimer";

// The manifest maps "timer" to the queued stand-in; the typings only know the real one.
export const Timer = AnyTimer as unknown as typeof QueuedTimer;

/** A stand-in socket as both apps' are: deliver() hands the client one piece. */
export interface DeliveringSocket {
	deliver(bytes: Uint8Array, start: number, end: number): void;
}

class Bench {
	socket: DeliveringSocket | undefined;
	ready = false;
	/** The PUBLISH the "broker" sends: prepared before a measured turn. */
	inbound = new Uint8Array(0);
	received = 0;
	sent = 0;
	readonly topic = "bench/topic/0123";   // 16 bytes, as in the method
}
export const bench = new Bench();

/** Runs the XS garbage collector (xsnap's gc global), so the next turn starts clean. */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}

/** Prepares one PUBLISH the broker will send: `size` bytes of text at `qos`. */
export function prepareInbound(size: number, qos: number): number {
	bench.inbound = publishPacket(bench.topic, size, qos);
	return bench.inbound.length;
}

/**
 * The prepared PUBLISH arrives n times, each in pieces of `piece` bytes (0: whole); after each
 * piece the queued zero-delay timers run (mqtt.js delivers messages from one, the ECMA-419
 * client sends its PUBACK from one), inside the measured turn.
 */
export function receive(n: number, piece: number): number {
	deliverPieces(bench.socket!, bench.inbound, n, piece, Timer.runImmediate);
	return bench.received;
}

export function counts(): { received: number; sent: number; ready: boolean } {
	return { received: bench.received, sent: bench.sent, ready: bench.ready };
}
