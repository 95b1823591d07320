// Benchmark (not a test): publish throughput and XS compute per message through mosquitto,
// in the XS host. Prints a table; asserts nothing about time.
//   node tests/throughput.bench.mjs [messages]
import { startBroker } from "./lib/broker.mjs";
import { startDriver, connected } from "./lib/driver.mjs";

const N = Number(process.argv[2] ?? 5000);
const broker = await startBroker();
const rows = [];
try {
	for (const [qos, size] of [[0, 16], [1, 16], [2, 16], [1, 1024]]) {
		const driver = await startDriver();
		await connected(driver, "bench", broker.port, { opts: { outbox: 1 << 23, inflight: 20, queue: 1 << 20 } });
		await driver.call("bench", "subscribe", "bench/echo", qos);
		await driver.waitEvent("bench", "suback");
		await driver.app.call("quiet", "bench");
		const payload = "x".repeat(size);
		const turnsBefore = driver.app.turns;
		const started = process.hrtime.bigint();
		let computeTotal = 0;
		for (let sent = 0; sent < N; sent += 100) {
			await driver.app.call("burst", "bench", "bench/echo", payload, Math.min(100, N - sent), qos);
			computeTotal += driver.app.meter.compute ?? 0;
		}
		for (const deadline = Date.now() + 60000; ;) {
			const counts = await driver.app.call("counts", "bench");
			if ((counts.sent ?? 0) >= N && (counts.recv ?? 0) >= N) break;
			if (Date.now() > deadline) throw new Error(`stalled: ${JSON.stringify(counts)} ${JSON.stringify(driver.seen("bench", "error")[0])}`);
			await new Promise((r) => setTimeout(r, 5));
		}
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		rows.push({ qos, payload: size, messages: N, seconds: seconds.toFixed(2), "msg/s (out+back)": Math.round(N / seconds), "XS compute per publish call": Math.round(computeTotal / N), "host turns": driver.app.turns - turnsBefore });
		await driver.call("bench", "close");
		await driver.stop();
	}
}
finally {
	await broker.stop();
}
console.table(rows);
