/*
 * Memory bench app (tests/memory.bench.mjs): one client with the ESP32 app's settings, driven
 * step by step through app.call. After each step the bench calls collect(), which runs the
 * XS garbage collector so that the host's meter (currentHeapCount) counts live slots only.
 */
import mqtt from "mqttc";

type Client = NonNullable<ReturnType<typeof mqtt.create>>;
const state: { client: Client | null; events: string[] } = { client: null, events: [] };

/** Runs a full garbage collection (xsnap's gc global). */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}

export function create(host: string, port: number, opts: Record<string, unknown>): boolean {
	state.client = mqtt.create(null, host, port, false, opts);
	if (!state.client) return false;
	state.client.on((c, event, data) => {
		state.events.push(`${event}:${String(data)}`);
		trace(`EVT ${event} ${String(data)}\n`);
	});
	return true;
}

export function call(method: string, ...args: unknown[]): unknown {
	const client = state.client as unknown as Record<string, (...a: unknown[]) => unknown>;
	return client[method](...args);
}

/** Forgets the client (after close) so that what it held can be collected. */
export function drop(): void {
	state.client = null;
	state.events = [];
}

export function clearEvents(): void {
	state.events = [];
}

export default function main(): void {
}
