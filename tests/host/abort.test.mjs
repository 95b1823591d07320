// Exceptions that escape app code end the app (exit code 1) with the message, as fxAbort does on a device.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "../../hosts/xs/host.mjs";
import { makeApp } from "../helpers/apps.mjs";
import { recordingServer } from "../helpers/net.mjs";

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/probe");

/** @param {string} main @param {import("../../hosts/xs/host.mjs").StartOptions} [options] */
async function run(main, options = {}) {
	const fixture = makeApp({ "main.js": main });
	try {
		const app = await startApp(fixture.dir, { stdout: false, ...options });
		return app;
	}
	finally {
		fixture.cleanup();		// the app runs from its staged copy
	}
}

test("an exception in a socket callback ends the app with code 1 and its message", async () => {
	const app = await startApp(PROBE, { stdout: false, stderr: false });
	const server = await recordingServer({ onConnection: s => s.write("x") });
	try {
		await app.call("setThrowOn", 2);
		await app.call("connect", server.port);
		const exit = await app.exited;
		assert.equal(exit.code, 1);
		assert.equal(exit.message, "unhandled exception: thrown from callback 2");
		assert.match(exit.stack ?? "", /fixtures\/probe\/main\.js:\d+/, "the stack names the app's source file");
		await assert.rejects(app.call("events"), /app has ended/);
	}
	finally {
		await app.stop();
		await server.close();
	}
});

test("an exception in a timer callback ends the app; trace output before it is kept", async () => {
	const app = await run(`import Timer from "timer";\ntrace("tick\\n");\nTimer.set(() => { throw new RangeError("late"); }, 5);\n`, { stderr: false });
	const exit = await app.exited;
	assert.deepEqual([exit.code, exit.message], [1, "unhandled exception: late"]);
	assert.equal(app.output, "tick\n");
	await app.stop();
});

test("main's top level throwing, and main's default export rejecting, end the app", async () => {
	const top = await run(`trace("a");\nthrow new Error("top level");\n`, { stderr: false });
	assert.deepEqual(await top.exited, { code: 1, message: "unhandled exception: top level", stack: (await top.exited).stack });
	await top.stop();

	const main = await run(`export default async function () { trace("started"); await null; throw new Error("in main()"); }\n`, { stderr: false });
	const exit = await main.exited;
	assert.deepEqual([exit.code, exit.message], [1, "unhandled rejection: in main()"]);
	assert.equal(main.output, "started", "the default export is called with no arguments");
	await main.stop();
});

test("an unhandled rejection in a callback ends the app", async () => {
	const app = await run(`import Timer from "timer";\nTimer.set(() => { Promise.reject(new Error("nobody listens")); }, 1);\n`, { stderr: false });
	const exit = await app.exited;
	assert.deepEqual([exit.code, exit.message], [1, "unhandled rejection: nobody listens"]);
	await app.stop();
});

test("app.call: a throwing function rejects the call without ending the app; results keep their types", async () => {
	const app = await run(`
export function fail(what) { throw new TypeError(what); }
export function echo(...args) { return args; }
export function bytes(u8) { return u8.buffer; }
export async function later(x) { await null; return x * 2; }
export function never() { return new Promise(() => {}); }
`);
	try {
		await assert.rejects(app.call("fail", "bad topic"), { name: "TypeError", message: "bad topic" });
		await assert.rejects(app.call("missing"), /exports no function "missing"/);
		assert.deepEqual(await app.call("echo", 1, "two", [3], { four: 4 }, null), [1, "two", [3], { four: 4 }, null]);
		assert.deepEqual(await app.call("bytes", new Uint8Array([1, 2, 255])), new Uint8Array([1, 2, 255]));
		assert.equal(await app.call("later", 21), 42, "a promise settled within the turn is awaited");
		await assert.rejects(app.call("never"), /did not settle within its turn/);
		assert.equal(app.finished, false);
	}
	finally {
		await app.stop();
	}
	assert.deepEqual(await app.exited, { code: 0, message: "stopped" });
	await app.stop();		// idempotent
});
