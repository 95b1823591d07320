// mqttc's per-message cost side by side with the Moddable SDK's own MQTT clients (issue 11):
// `mqtt.js` (modules/network/mqtt) and the ECMA-419 client (examples/io/tcp/mqttclient), both
// loaded from $MODDABLE at run time by the bench apps tests/apps/cost-sdk-mqtt and
// tests/apps/cost-sdk-419 (their manifests name the files through $(SDK_UNDER_TEST), set here;
// nothing of the SDK is in the repository). Same scenarios, same measureScenario as mqttc's.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startApp } from "../../hosts/xs/host.mjs";
import { startCostApp, measureScenario, countScenario, calibrateCall } from "./cost.mjs";

const APPS = new URL("../apps/", import.meta.url).pathname;

/** The SDK's clients: their bench app, the SDK file it loads, and what each can do. */
const SDK_CLIENTS = [
	// QoS 0 only: mqtt.js sends no PUBACK and ignores the broker's.
	{ name: "SDK mqtt.js", app: "cost-sdk-mqtt", file: "modules/network/mqtt/mqtt.js", qos: [0] },
	{ name: "SDK ECMA-419", app: "cost-sdk-419", file: "examples/io/tcp/mqttclient/mqttclient.js", qos: [0, 1, 2] },
];

/** The table: 64 B payloads unless said, 16-byte topic, whole packets; `short`
 * heads the column of the scenario in the tables of calls. */
export const SIDE_BY_SIDE_SCENARIOS = [
	{ label: "publish QoS 0, 64 B", short: "pub QoS 0", kind: "publish", qos: 0, size: 64 },
	{ label: "publish QoS 1 incl. PUBACK", short: "pub QoS 1", kind: "publish", qos: 1, size: 64 },
	{ label: "publish QoS 2 incl. REC/REL/COMP", short: "pub QoS 2", kind: "publish", qos: 2, size: 64 },
	{ label: "receive QoS 0, 64 B", short: "recv QoS 0", kind: "receive", qos: 0, size: 64 },
	{ label: "receive QoS 0, 4 KB", short: "recv 4 KB", kind: "receive", qos: 0, size: 4096 },
	{ label: "receive QoS 1 incl. PUBACK, 64 B", short: "recv QoS 1", kind: "receive", qos: 1, size: 64 },
];

/** Keys of the host's text conversions (ArrayBuffer.fromString, String.fromArrayBuffer):
 * counted and calibrated like the stand-ins' calls, but not part of "net" (they are the
 * host's, not the bench's stand-ins), shown beside it. */
export const isConversion = (key) => /^(ArrayBuffer\.fromString|String\.fromArrayBuffer)\//.test(key);

/** The SDK clients whose file is in this SDK (none without $MODDABLE). */
export function sdkClients(moddable = process.env.MODDABLE) {
	if (!moddable)
		return [];
	return SDK_CLIENTS.filter((client) => existsSync(join(moddable, client.file)));
}

/** Starts the bench app of one SDK client, loading the client from `moddable`. */
export function startSdkCostApp(client, moddable = process.env.MODDABLE) {
	return startApp(join(APPS, client.app), { stdout: false, env: { ...process.env, SDK_UNDER_TEST: moddable } });
}

/**
 * measureScenario, then a check that the measured turns did what they claim (every message
 * received, every QoS 1/2 publish acknowledged), so a broken stand-in cannot print a figure.
 */
export async function measureChecked(app, name, scenario) {
	const n = scenario.n ?? 50;
	const before = await app.call("counts");
	const figures = await measureScenario(app, { ...scenario, n });
	const after = await app.call("counts");
	const [counter, expected] = scenario.kind === "receive" ? ["received", n] : ["sent", scenario.qos ? n : undefined];
	if (expected !== undefined && after[counter] - before[counter] !== expected)
		throw new Error(`${name}, ${scenario.label}: ${after[counter] - before[counter]} messages ${counter}, expected ${expected}`);
	return figures;
}

/**
 * Rows {scenario, "<client> compute", ..., "<client> slots", ...}: mqttc and each SDK client
 * found; "–" where a client cannot do the scenario. Then, in turns of their own after the
 * measured ones (so these are untouched), each client's calls into the stand-ins per message
 * and each kind's calibrated own cost (tests/lib/cost.mjs countScenario, calibrateCall):
 * `ledgers[client]` = {scenarios: [{gross, calls: {key: per message}, standIns, net,
 * conversions, netOfConversions} or undefined], calibration: {key: {standIn, native, own,
 * file, reference}}}, and `net` rows {scenario, "<client> gross", "<client> net", ...}.
 */
export async function measureSideBySide(moddable = process.env.MODDABLE) {
	const clients = [{ name: "mqttc", qos: [0, 1, 2], start: () => startCostApp() },
		...sdkClients(moddable).map((client) => ({ ...client, start: () => startSdkCostApp(client, moddable) }))];
	const rows = SIDE_BY_SIDE_SCENARIOS.map((scenario) => ({ scenario: scenario.label }));
	const net = SIDE_BY_SIDE_SCENARIOS.map((scenario) => ({ scenario: scenario.label }));
	const ledgers = {};
	for (const client of clients) {
		const app = await client.start();
		try {
			const gross = [];
			for (const [i, scenario] of SIDE_BY_SIDE_SCENARIOS.entries()) {
				const figures = client.qos.includes(scenario.qos) ? await measureChecked(app, client.name, scenario) : undefined;
				gross[i] = figures?.compute;
				rows[i][`${client.name} compute`] = figures?.compute ?? "–";
				rows[i][`${client.name} slots`] = figures?.slots ?? "–";
			}
			const calibration = {};
			const scenarios = [];
			for (const [i, scenario] of SIDE_BY_SIDE_SCENARIOS.entries()) {
				if (gross[i] === undefined) {
					net[i][`${client.name} gross`] = net[i][`${client.name} net`] = "–";
					continue;
				}
				const calls = await countScenario(app, scenario);
				let standIns = 0, conversions = 0;
				for (const [key, times] of Object.entries(calls)) {
					const { own } = await calibrateCall(app, key, 200, calibration);
					if (isConversion(key)) conversions += times * own;
					else standIns += times * own;
				}
				const row = { gross: gross[i], calls, standIns: Math.round(standIns), net: Math.round(gross[i] - standIns),
					conversions: Math.round(conversions), netOfConversions: Math.round(gross[i] - standIns - conversions) };
				scenarios[i] = row;
				net[i][`${client.name} gross`] = row.gross;
				net[i][`${client.name} net`] = row.net;
			}
			ledgers[client.name] = { scenarios, calibration };
		}
		finally {
			await app.stop();
		}
	}
	// compute columns first, then slots, so the clients compare at a glance
	const order = ["scenario", ...clients.map((c) => `${c.name} compute`), ...clients.map((c) => `${c.name} slots`)];
	return { rows: rows.map((row) => Object.fromEntries(order.map((key) => [key, row[key]]))), net, ledgers };
}
