// Benchmark (not a test): mqttc's per-message cost on the XS engine — compute units and
// slots allocated per message, publish and receive at QoS 0/1/2, payloads 16 B to 4 KB,
// received whole and in 1-byte and 100-byte reads — behind a stand-in socket and timer
// (tests/apps/cost), so that only the client's own work is counted. With $MODDABLE set and
// its xsc built, also the release bytecode size of the module sets, and mqttc side by side
// with the SDK's clients, gross and net of the stand-ins' own work (each client's calls into
// the stand-ins per message, each kind calibrated against a native call of the same shape).
//   node tests/cost.bench.mjs [--bytecode]      (--bytecode: only the bytecode sizes)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";
import ts from "typescript";
import { startCostApp, measureScenario } from "./lib/cost.mjs";
import { sdkClients, measureSideBySide, SIDE_BY_SIDE_SCENARIOS, isConversion } from "./lib/cost-sdk.mjs";

const bytecodeOnly = process.argv.includes("--bytecode");
const app = bytecodeOnly ? undefined : await startCostApp();
const rows = [];
const binaryRows = [];
const wsRows = [];
const ioRows = [];
if (app) try {
	for (const qos of [0, 1, 2]) {
		for (const size of [16, 64, 256, 4096]) {
			const publish = await measureScenario(app, { kind: "publish", qos, size });
			const row = { qos, payload: size, "publish compute": publish.compute, "publish slots": publish.slots };
			for (const [label, piece] of [["whole", 0], ["1-byte reads", 1], ["100-byte reads", 100]]) {
				const receive = await measureScenario(app, { kind: "receive", qos, size, piece, n: piece === 1 && size > 256 ? 5 : 50 });
				row[`receive ${label}`] = receive.compute;
				if (!piece) row["receive slots"] = receive.slots;
			}
			rows.push(row);
		}
	}
	for (const qos of [0, 1, 2]) {
		const publish = await measureScenario(app, { kind: "publish", qos, size: 64, binary: true });
		binaryRows.push({ qos, payload: 64, "publish compute": publish.compute, "publish slots": publish.slots });
	}
	// The same client over WebSocket (mqttc/ws): the bench feeds frames, and Logical.xor (the
	// masking) is a stand-in that does nothing, as cheap as a native call.
	wsRows.push(...await beside({ websocket: true }));
	// The same client over the ECMA-419 socket (mqttc/io): the SDK ECMA-419 client's bench
	// stand-in for `embedded:io/socket/tcp` (tests/apps/cost/benchtcp.ts).
	ioRows.push(...await beside({ io: true }));
}
finally {
	await app.stop();
}
/** Rows of the client made with `opts` (a transport), publish and receive at QoS 0/1/2 of 64 B
 * and 4 KB, beside the same on the classic socket. */
async function beside(opts) {
	const out = [];
	for (const qos of [0, 1, 2]) {
		for (const size of [64, 4096]) {
			const plain = rows.find((row) => row.qos === qos && row.payload === size);
			const publish = await measureScenario(app, { kind: "publish", qos, size, opts });
			const receive = await measureScenario(app, { kind: "receive", qos, size, opts });
			out.push({ qos, payload: size, "publish compute": publish.compute, "(TCP)": plain["publish compute"], "receive compute": receive.compute, "(TCP) ": plain["receive whole"], "publish slots": publish.slots, "receive slots": receive.slots });
		}
	}
	return out;
}

if (app) {
console.log("XS compute units and slots per message (QoS 1/2 publish includes the broker's acks;");
console.log("QoS 1/2 receive includes the client's acks); topic 16 bytes; @agoric/xsnap 0.15.0\n");
console.table(rows);
console.log("\nPublish with a Uint8Array payload (the app's bytes; QoS 1/2 copy them into the outbox):\n");
console.table(binaryRows);
console.log("\nOver WebSocket (mqttc/ws; a frame per packet, masked), beside TCP:\n");
console.table(wsRows);
console.log("\nOver the ECMA-419 socket (mqttc/io; an ack in one write(), a PUBLISH in two), beside the classic Socket:\n");
console.table(ioRows);
}

// Release bytecode: every module compiled by the SDK's xsc (-e: no debug info), when available.
const xsc = process.env.MODDABLE && join(process.env.MODDABLE, "build/bin/lin/release/xsc");
if (xsc && existsSync(xsc)) {
	const root = new URL("../", import.meta.url).pathname;
	const dir = mkdtempSync(join(tmpdir(), "mqttc-xsb-"));
	try {
		const sizes = {};
		for (const [set, folder] of [["mqttc", "modules/mqttc"], ["mqttc-at", "modules/mqttc-at"]]) {
			const files = readdirSync(join(root, folder)).filter((f) => f.endsWith(".ts")).map((f) => join(root, folder, f));
			if (set === "mqttc") files.push(join(root, "modules/mqttc.ts"));
			for (const file of files) {
				const js = ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
				const name = basename(file, ".ts");
				const source = join(dir, `${set}-${name}.js`);
				writeFileSync(source, js);
				execFileSync(xsc, ["-e", "-o", dir, source]);
				sizes[name === set ? set : `${set}/${name}`] = statSync(join(dir, `${set}-${name}.xsb`)).size;
			}
		}
		const total = (filter) => Object.entries(sizes).filter(([k]) => filter(k)).reduce((sum, [, v]) => sum + v, 0);
		console.log("\nRelease bytecode (xsc -e), bytes:");
		console.table(sizes);
		// The core is what manifest.json lists; each feature manifest adds its own modules.
		const own = (file) => Object.keys(JSON.parse(readFileSync(join(root, file), "utf8")).modules);
		const core = own("manifest.json");
		const lines = [`core (manifest.json, a plain app): ${total((k) => core.includes(k))} B`];
		for (const file of readdirSync(root).filter((f) => /^manifest_\w+\.json$/.test(f)).sort()) {
			const names = own(file).filter((k) => k in sizes || k.endsWith("/*"));
			const bytes = total((k) => names.includes(k) || names.some((n) => n.endsWith("/*") && k.startsWith(n.slice(0, -1))));
			lines.push(`+ ${file}: ${bytes} B`);
		}
		console.log(lines.join("\n"));
	}
	finally {
		rmSync(dir, { recursive: true, force: true });
	}
}
else console.log("\n(bytecode sizes need the Moddable SDK: set MODDABLE to a built SDK)");

// Side by side with the SDK's own clients (mqtt.js, ECMA-419), loaded from $MODDABLE at run
// time: tests/lib/cost-sdk.mjs. Without $MODDABLE (or without those files) nothing is printed.
if (!bytecodeOnly && sdkClients().length) {
	const { rows: sideBySide, net, ledgers } = await measureSideBySide();
	console.log("\nSide by side with the Moddable SDK's clients, from", process.env.MODDABLE);
	console.log("(same stand-in network, same scenarios; compute units and slots per message; – : the client cannot)\n");
	console.table(sideBySide);
	printNet(net, ledgers);
}

/** Where a key goes in a table of calls: the socket's, then the timer's, by kind. */
function byRank(a, b) {
	const order = ["socket.write", "socket.read", "socket.deliver", "socket.close", "tcp.write", "tcp.read", "tcp.format", "tcp.deliver",
		"tcp.close", "Timer.set", "Timer.runImmediate", "timer fired", "Timer."];
	const rank = (key) => {
		const at = order.findIndex((prefix) => key.startsWith(prefix));
		return at < 0 ? order.length : at;
	};
	return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * The side-by-side figures net of the stand-ins: the net table, each client's calls into the
 * stand-ins per message with each call's own cost, and the calibrations.
 */
function printNet(net, ledgers) {
	console.log("\nNet: the gross figure less the stand-ins' own work, i.e. for each call per message into the stand-in socket/TCP or timer, what it costs there minus what a native call of the same shape costs.\n");
	console.table(net);
	for (const [name, { scenarios, calibration }] of Object.entries(ledgers)) {
		const columns = SIDE_BY_SIDE_SCENARIOS.map((scenario, i) => [scenario.short, scenarios[i]]).filter(([, row]) => row);
		const keys = [...new Set(columns.flatMap(([, row]) => Object.keys(row.calls)))].sort(byRank);
		// a row per key or total, keyed by its label (console.table leaves missing cells blank)
		const table = {};
		const line = (label, own, value) => {
			table[label] = own === undefined ? {} : { "own units": own };
			for (const [short, row] of columns)
				if (value(row) !== undefined) table[label][short] = value(row);
		};
		for (const key of keys.filter((k) => !isConversion(k)))
			line(key, calibration[key].own, (row) => row.calls[key]);
		line("= stand-ins' own work", undefined, (row) => row.standIns);
		line("gross", undefined, (row) => row.gross);
		line("net", undefined, (row) => row.net);
		for (const key of keys.filter(isConversion))
			line(`${key} (host)`, calibration[key].own, (row) => row.calls[key]);
		line("net, also of conversions", undefined, (row) => row.netOfConversions);
		console.log(`\n${name}: calls per message into the stand-ins, and each call's own cost (units):`);
		console.table(table, ["own units", ...columns.map(([short]) => short)]);
	}
	console.log("\nCalibration, compute units per iteration of a loop making the call, on the stand-in and natively (the loop's units are in");
	console.log("both); own = the difference, the stand-in's own JavaScript. Native reference of each:");
	const seen = new Map();
	for (const [name, { calibration }] of Object.entries(ledgers))
		for (const [key, c] of Object.entries(calibration)) {
			const id = `${key} (${c.file})`;
			const entry = seen.get(id) ?? { ...c, key, clients: [] };
			entry.clients.push(entry.own === c.own ? name : `${name}: ${c.own}`);
			seen.set(id, entry);
		}
	for (const [id, c] of [...seen].sort(([, a], [, b]) => byRank(a.key, b.key)))
		console.log(`  ${id}: ${[c.standIn, c.native, ...c.less.map((part) => part.own)].join(" - ")} = ${c.own} [${c.clients.join(", ")}]; ${
			c.reference}${c.less.length ? `; less the own costs of ${c.less.map((part) => part.key).join(" and ")}` : ""}`);
	console.log("Not in \"net\": the host's ArrayBuffer.fromString and String.fromArrayBuffer (hosts/xs/guest/boot.js) are JavaScript over");
	console.log("xsnap's TextEncoder/TextDecoder where a device makes one native call; \"net, also of conversions\" takes their own work out too.");
}
