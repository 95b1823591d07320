/*
 * Fleet simulation app (tests/fleet.bench.mjs): `count` mqttc clients in one XS instance,
 * all connected to one broker with the same reconnect policy. Each client's events only
 * move counters (nothing is traced per client); the bench polls status().
 */
import mqtt from "mqttc";
import Timer from "timer";

type Client = NonNullable<ReturnType<typeof mqtt.create>>;

class Fleet {
	clients: Client[] = [];
	conacks = 0;
	disconnects = 0;
	errors = 0;
	lastError = "";
	timer: Timer | undefined;
}
const fleet = new Fleet();

/** Runs a full garbage collection (xsnap's gc global) so that the meter counts live slots. */
export function collect(): void {
	(globalThis as unknown as { gc?: () => void }).gc?.();
}

/**
 * Creates `count` clients (ids "fleet-<n>") and connects them in batches of `batch` every
 * `gapMs`, so that the first connection is not itself a herd. `max` 0: fixed period.
 */
export function start(count: number, host: string, port: number, opts: Record<string, unknown>, period: number, max: number, keepalive: number, batch: number, gapMs: number): boolean {
	for (let i = 0; i < count; i++) {
		const client = mqtt.create(null, host, port, false, opts);
		if (!client) return false;
		client.auth(`fleet-${i}`);
		client.keepalive(keepalive);
		client.autoreconn(true, period, max);
		client.on((_c, event, data) => {
			if (event === "conack") fleet.conacks++;
			else if (event === "disconnect") fleet.disconnects++;
			else if (event === "error") {
				fleet.errors++;
				fleet.lastError = String(data);
			}
		});
		fleet.clients.push(client);
	}
	let next = 0;
	fleet.timer = Timer.repeat(() => {
		for (let k = 0; k < batch && next < fleet.clients.length; k++) fleet.clients[next++].connect();
		if (next >= fleet.clients.length && fleet.timer) {
			Timer.clear(fleet.timer);
			fleet.timer = undefined;
		}
	}, gapMs);
	return true;
}

export function status() {
	let ready = 0;
	for (const client of fleet.clients) if (client.ready()) ready++;
	return { clients: fleet.clients.length, ready, conacks: fleet.conacks, disconnects: fleet.disconnects, errors: fleet.errors, lastError: fleet.lastError };
}

/** Closes and forgets every client. */
export function stop(): void {
	for (const client of fleet.clients) client.close();
	fleet.clients = [];
	fleet.conacks = fleet.disconnects = fleet.errors = 0;
}

export default function main(): void {
}
