// The run.mjs CLI as a child process: exit codes, --until, --timeout, key=value, --virtual-time.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { makeApp, runHost, REPO } from "../helpers/apps.mjs";
import { listen } from "../helpers/net.mjs";

/** @type {{dir: string, cleanup: () => void}[]} */
const apps = [];
after(() => apps.forEach(a => a.cleanup()));
/** @param {Record<string, string | object>} files */
const app = files => {
	const a = makeApp(files);
	apps.push(a);
	return a.dir;
};

test("--until: exit 0 once the trace output matches; key=value overrides config", async () => {
	const dir = app({
		"manifest.json": { config: { who: "nobody", n: 1 }, modules: { "*": ["./main"] } },
		"main.js": `import config from "mc/config";\nimport Timer from "timer";\nTimer.repeat(() => trace(\`hello \${config.who} \${typeof config.n}\\n\`), 10);\n`,
	});
	const result = await runHost([dir, "who=world", "n=2", "--until", "hello world number"]);
	assert.equal(result.code, 0, result.stderr);
	assert.match(result.stdout, /^hello world number\n/);
});

test("--timeout: exit 124 when the app keeps running", async () => {
	const dir = app({ "main.js": `import Timer from "timer";\nTimer.repeat(() => trace("."), 50);\n` });
	const result = await runHost([dir, "--until", "never", "--timeout", "0.5"]);
	assert.equal(result.code, 124);
	assert.match(result.stderr, /timeout after 0\.5 s/);
	assert.match(result.stdout, /\./, "the app ran until then");
});

test("an unhandled exception: exit 1 with \"XS abort: unhandled exception: <message>\" and the stack", async () => {
	const dir = app({ "main.js": `import Timer from "timer";\nTimer.set(function boom() { throw new Error("kaboom"); }, 1);\n` });
	const result = await runHost([dir, "--until", "never", "--timeout", "10"]);
	assert.equal(result.code, 1);
	assert.match(result.stderr, /^XS abort: unhandled exception: kaboom$/m);
	assert.match(result.stderr, new RegExp(`boom \\(${path.join(dir, "main.js").replace(/[/.]/g, "\\$&")}:2\\)`));
});

test("without --until: exit 0 when nothing is left to do; 1 if --until never matched", async () => {
	const dir = app({ "main.js": `import Timer from "timer";\nlet n = 0;\nTimer.repeat(t => { trace(\`\${++n}\\n\`); if (n === 3) Timer.clear(t); }, 5);\n` });
	const idle = await runHost([dir]);
	assert.equal(idle.code, 0, idle.stderr);
	assert.equal(idle.stdout, "1\n2\n3\n");
	const unmatched = await runHost([dir, "--until", "^4$"]);
	assert.equal(unmatched.code, 1);
	assert.match(unmatched.stderr, /never matched/);
});

test("--virtual-time: long timers run at once, Date.now() follows the virtual clock", async () => {
	const dir = app({ "main.js": `import Timer from "timer";\nconst t0 = Date.now();\nlet n = 0;\nTimer.repeat(t => { trace(\`\${Date.now() - t0}\\n\`); if (++n === 3) Timer.clear(t); }, 3600000);\n` });
	const started = Date.now();
	const result = await runHost([dir, "--virtual-time"]);
	assert.equal(result.code, 0, result.stderr);
	assert.equal(result.stdout, "3600000\n7200000\n10800000\n");
	assert.ok(Date.now() - started < 15000, "three virtual hours took seconds");
});

test("the echo example round-trips a line through a TCP echo server (--send-buffer accepted)", async () => {
	const server = net.createServer(s => s.pipe(s));
	const port = await listen(server);
	try {
		const result = await runHost([path.join(REPO, "hosts/examples/echo"), `port=${port}`, "message=ping over XS", "--send-buffer", "8192", "--until", "round trip \\d+ ms", "--timeout", "15"]);
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stdout, /echo: reply "ping over XS"/);
	}
	finally {
		server.close();
	}
});

test("usage and build errors: exit 2 with a message", async () => {
	const missing = await runHost([path.join(REPO, "no/such/app")]);
	assert.equal(missing.code, 2);
	assert.match(missing.stderr, /manifest not found/);
	const usage = await runHost(["--bogus"]);
	assert.equal(usage.code, 2);
	assert.match(usage.stderr, /unknown option --bogus/);
});

test("--until is tried on each line alone: '^DONE$' matches a later line", async () => {
	const dir = app({ "main.js": `import Timer from "timer";\ntrace("starting\\n");\nTimer.set(() => trace("DONE\\n"), 5);\nTimer.set(() => trace("late\\n"), 60000);\n` });
	const result = await runHost([dir, "--until", "^DONE$", "--timeout", "15"]);
	assert.equal(result.code, 0, result.stderr);
	assert.match(result.stdout, /^starting\nDONE\n/);
});

test("--virtual-time: a reply in flight is not overtaken by a timer (the clock waits for the network)", async () => {
	// The server answers 150 ms (real time) after the app writes; the app's 1 s timeout timer
	// must not fire first. Before, the clock jumped after 10 ms of quiet.
	const server = net.createServer(s => s.once("data", () => setTimeout(() => s.write("reply"), 150)));
	const port = await listen(server);
	try {
		const dir = app({
			"manifest.json": { config: { port: 0 }, modules: { "*": ["./main"] } },
			"main.js": [
				`import {Socket} from "socket";\nimport Timer from "timer";\nimport config from "mc/config";`,
				`const timeout = Timer.set(() => trace("TIMEOUT\\n"), 1000);`,
				`const s = new Socket({host: "127.0.0.1", port: config.port});`,
				`s.callback = function (message) {`,
				`  if (message === 1) this.write("ask");`,
				`  if (message === 2) { trace(\`REPLY \${this.read(String)}\\n\`); Timer.clear(timeout); this.close(); }`,
				`};`,
			].join("\n"),
		});
		const result = await runHost([dir, `port=${port}`, "--virtual-time", "--until", "^(REPLY|TIMEOUT)", "--timeout", "15"]);
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stdout, /^REPLY reply\n/);
	}
	finally {
		server.close();
	}
});

test("--platform esp32: a refused connect is -2 at once; the default (lin) reports it connected and the first write throws", async () => {
	const port = await new Promise(resolve => {
		const probe = net.createServer();
		probe.listen(0, "127.0.0.1", () => { const p = /** @type {net.AddressInfo} */ (probe.address()).port; probe.close(() => resolve(p)); });
	});
	const dir = app({
		"manifest.json": { config: { port: 0 }, modules: { "*": ["./main"] } },
		"main.js": [
			`import {Socket} from "socket";\nimport config from "mc/config";`,
			`const s = new Socket({host: "127.0.0.1", port: config.port});`,
			`s.callback = function (message) {`,
			`  trace(\`message \${message} free \${message === 1 ? this.write() : ""}\\n\`);`,
			`  if (message === 1) { try { this.write("x"); } catch (e) { trace(\`throws \${e.message}\\n\`); } this.close(); }`,
			`};`,
		].join("\n"),
	});
	const esp32 = await runHost([dir, `port=${port}`, "--platform", "esp32", "--timeout", "15"]);
	assert.equal(esp32.code, 0, esp32.stderr);
	assert.equal(esp32.stdout, "message -2 free \n");
	const lin = await runHost([dir, `port=${port}`, "--timeout", "15"]);
	assert.equal(lin.code, 0, lin.stderr);
	assert.equal(lin.stdout, "message 1 free 1024\nthrows write failed\n");
});
