// Drives mqttc clients inside the XS host (tests/apps/client) and collects their events.
import { before, after } from "node:test";
import { startApp } from "../../hosts/xs/host.mjs";
import { startBroker } from "./broker.mjs";

const APP = new URL("../apps/client/", import.meta.url).pathname;

/**
 * Starts the driver app (`app`: another app of tests/apps running the same main, e.g.
 * "client-iotls"; startApp's options besides). Returns helpers to create clients, call their
 * methods and wait for their events (each event is matched at most once, in arrival order).
 */
export async function startDriver({ app: name, ...options } = {}) {
	const dir = name ? new URL(`../apps/${name}/`, import.meta.url).pathname : APP;
	const app = await startApp(dir, { stdout: !!process.env.MQTTC_TRACE, ...options });
	const events = [];
	let parsed = 0;
	const pump = () => {
		const output = app.output;
		for (;;) {
			const end = output.indexOf("\n", parsed);
			if (end < 0) break;
			const line = output.slice(parsed, end);
			parsed = end + 1;
			const match = /^EVT (\S+) (.*)$/.exec(line);
			if (match) events.push({ client: match[1], ...JSON.parse(match[2]), taken: false });
		}
	};
	const find = (client, event, predicate) => {
		pump();
		return events.find((e) => !e.taken && e.client === client && e.event === event && predicate(e));
	};
	const driver = {
		app,
		events,
		create: (name, host, port, ssl, opts) => app.call("create", name, host, port, ssl ?? null, opts ?? null),
		call: (name, method, ...args) => app.call("call", name, method, ...args),
		/** Waits for an event of `client` named `event` satisfying `predicate`. */
		async waitEvent(client, event, predicate = () => true, ms = 10000) {
			const deadline = Date.now() + ms;
			for (;;) {
				const found = find(client, event, predicate);
				if (found) {
					found.taken = true;
					return found;
				}
				if (Date.now() > deadline) {
					const seen = events.filter((e) => e.client === client).slice(-8).map((e) => `${e.event}:${JSON.stringify(e.data)}:${JSON.stringify(e.payload)}`.slice(0, 120));
					throw new Error(`${client}: no "${event}" event within ${ms} ms; last events: ${seen.join(" | ")}\noutput tail: ${app.output.slice(-1500)}`);
				}
				await new Promise((r) => setTimeout(r, 5));
			}
		},
		/** Events of a client seen so far (taken or not). */
		seen(client, event) {
			pump();
			return events.filter((e) => e.client === client && (!event || e.event === event));
		},
		/** Advances virtual time in steps, letting I/O through between them. */
		async advance(ms, step = 1000) {
			for (let left = ms; left > 0; left -= step) {
				await app.advance(Math.min(step, left));
				await new Promise((r) => setTimeout(r, 5));
			}
		},
		stop: () => app.stop(),
	};
	return driver;
}

/** Connects client `name` to 127.0.0.1:port and waits for conack. */
export async function connected(driver, name, port, { id = name, clean = true, keepalive, opts, ssl, user, password } = {}) {
	if (!await driver.create(name, "127.0.0.1", port, ssl, opts)) throw new Error(`create(${name}) returned null`);
	await driver.call(name, "auth", id, user ?? "", password ?? "", clean);
	if (keepalive) await driver.call(name, "keepalive", keepalive);
	if (!await driver.call(name, "connect")) throw new Error(`connect(${name}) returned false`);
	await driver.waitEvent(name, "conack");
}

/**
 * One mosquitto and one driver app for a whole test file, started before its first test and
 * stopped after its last: `env.broker` and `env.driver` once the tests run.
 */
export function brokerAndDriver(driverOptions = {}) {
	const env = { broker: undefined, driver: undefined };
	before(async () => {
		env.broker = await startBroker();
		env.driver = await startDriver(driverOptions);
	});
	after(async () => {
		await env.driver?.stop();
		await env.broker?.stop();
	});
	return env;
}
