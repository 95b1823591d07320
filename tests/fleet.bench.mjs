// Fleet reconnect simulation (a benchmark, not part of `npm test`): N mqttc clients in one
// XS host instance against one local mosquitto; the broker is killed, stays down 10 s and
// starts again. Measured per reconnect policy: the broker's peak CONNECTs per second (from
// its log, one-second timestamps), the time until every client is back, the connection
// attempts the outage cost, and the XS heap per client (host meter, live slots after gc).
//
//   node tests/fleet.bench.mjs [clients=1000] [downSeconds=10]
//
// This is the "thundering herd": with LuatOS's fixed period every device that lost the
// broker at the same moment retries at the same moments; backoff with jitter spreads them.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../hosts/xs/host.mjs";
import { startBroker } from "./lib/broker.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLIENTS = Number(process.argv[2] ?? 1000);
const DOWN_MS = Number(process.argv[3] ?? 10) * 1000;
const SLOT_BYTES_HOST = 32;          // a slot on this 64-bit host (16 on a 32-bit MCU)
const OPTS = { rxSize: 1024, outbox: 2048, queue: 1024, conn_timeout: 15 };
const KEEPALIVE = 120;

const POLICIES = [
	{ name: "LuatOS fixed period 3 s", period: 3000, max: 0 },
	{ name: "backoff 1..30 s + jitter", period: 1000, max: 30000 },
	{ name: "backoff 3..60 s + jitter", period: 3000, max: 60000 },
];

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** CONNECTs per second the broker logged after `from` (its log's character offset). */
function connectsPerSecond(log, from) {
	const perSecond = new Map();
	for (const match of log.slice(from).matchAll(/^(\d+): New client connected/gm)) {
		const second = Number(match[1]);
		perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
	}
	return perSecond;
}

async function until(app, predicate, ms) {
	const deadline = Date.now() + ms;
	for (;;) {
		const status = await app.call("status");
		if (predicate(status)) return status;
		if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(status)}`);
		await pause(100);
	}
}

async function run(policy) {
	const broker = await startBroker({ lines: ["max_keepalive 65535"] });
	const app = await startApp(join(ROOT, "tests/apps/fleet"), { stdout: false });
	try {
		const slots = async () => {
			await app.call("collect");
			await app.call("collect");
			return app.meter.currentHeapCount;
		};
		const base = await slots();
		const t0 = Date.now();
		if (!await app.call("start", CLIENTS, "127.0.0.1", broker.port, OPTS, policy.period, policy.max, KEEPALIVE, 50, 50)) throw new Error("create failed");
		await until(app, (s) => s.ready === CLIENTS, 120000);
		const connectMs = Date.now() - t0;
		const perClient = (await slots() - base) / CLIENTS;
		const before = await app.call("status");

		const mark = broker.log().length;
		await broker.kill();
		await pause(DOWN_MS);
		await broker.restart();
		const restarted = Date.now();
		const back = await until(app, (s) => s.ready === CLIENTS, 300000);
		const backMs = Date.now() - restarted;
		await pause(1500);                         // let the log catch up
		const perSecond = connectsPerSecond(broker.log(), mark);
		const counts = [...perSecond.values()];
		const seconds = [...perSecond.keys()].sort((x, y) => x - y);
		return {
			policy: policy.name,
			connectMs,
			perClientSlots: perClient,
			peak: Math.max(...counts),
			spread: seconds.length ? seconds.at(-1) - seconds[0] + 1 : 0,
			reconnects: counts.reduce((x, y) => x + y, 0),
			attempts: back.disconnects - before.disconnects,
			backMs,
			errors: back.errors,
		};
	}
	finally {
		await app.stop();
		await broker.stop();
	}
}

const rows = [];
for (const policy of POLICIES) {
	const row = await run(policy);
	rows.push(row);
	console.error(`# ${JSON.stringify(row)}`);
}
console.log(`Fleet reconnect: ${CLIENTS} mqttc clients in one XS host instance, one mosquitto on 127.0.0.1, broker killed and down ${DOWN_MS / 1000} s`);
console.log(`client opts ${JSON.stringify(OPTS)}, keepalive ${KEEPALIVE} s; heap per client from the XS meter (live slots after gc, ${SLOT_BYTES_HOST} B each on this host, 16 B on a 32-bit MCU) plus rxSize\n`);
const header = ["reconnect policy", "peak CONNECTs/s at broker", "seconds with CONNECTs", "all back after restart", "failed attempts during outage", "heap per client"];
const table = rows.map((r) => [
	r.policy, String(r.peak), String(r.spread), `${(r.backMs / 1000).toFixed(1)} s`, String(r.attempts - CLIENTS),
	`${Math.round(r.perClientSlots)} slots + ${OPTS.rxSize} B rx`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells) => "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const t of table) console.log(line(t));
console.log(`\ninitial connection of all ${CLIENTS} (batches of 50 every 50 ms): ${rows.map((r) => (r.connectMs / 1000).toFixed(1) + " s").join(", ")}`);
