// The test side of the at-modem app's TCP stand-in UART: listens on 127.0.0.1, starts the
// app in the XS host pointed at it, and offers send/expect over the raw byte stream.
// options.port listens on a given port, options.launch(config) starts the app some other
// way (tests/sdk/mcsim-check.mjs: a build for the Moddable simulator, whose config is fixed
// at build time) and returns {stop(), output}.
import net from "node:net";
import {spawn} from "node:child_process";
import path from "node:path";
import fs from "node:fs";
import {fileURLToPath} from "node:url";
import {startApp} from "../../hosts/xs/host.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const APP_DIR = path.join(root, "hosts/examples/at-modem");

export async function startModem(options = {}) {
	const server = net.createServer();
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port ?? 0, "127.0.0.1", resolve);
	});
	const {port} = server.address();
	const connected = new Promise((resolve) => server.once("connection", resolve));
	// options.platform: which SDK socket behaviour the host shows ("lin" by default, "esp32")
	const config = {uart_port: port, ...options.config};
	const app = options.launch
		? await options.launch(config)
		: await startApp(APP_DIR, {config, stdout: !!process.env.AT_TRACE, ...(options.platform ? {platform: options.platform} : {})});
	let timer;
	const socket = await Promise.race([
		connected,
		new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("the app did not connect its UART" + app.output)), options.connectMs ?? 10000))),
	]).catch(async (error) => {
		server.close();
		await app.stop();
		throw error;
	});
	clearTimeout(timer);
	socket.setNoDelay(true);
	let rx = Buffer.alloc(0);
	let mark = 0;
	const waiters = new Set();
	socket.on("data", (d) => {
		rx = Buffer.concat([rx, d]);
		for (const w of [...waiters]) w();
	});
	socket.on("error", () => {});
	const modem = {
		app,
		/** Everything the app wrote so far, as a latin1 string (bytes 1:1). */
		get text() {
			return rx.toString("latin1");
		},
		/** Everything the app wrote so far as UTF-8 text: with echo on, a terminal's view of the session. */
		get transcript() {
			return rx.toString("utf8");
		},
		send(data) {
			socket.write(typeof data === "string" ? Buffer.from(data, "utf8") : data);
		},
		/**
		 * Waits until the bytes received since the last expect() match `re` (a RegExp over
		 * latin1 text); consumes up to the end of the match and returns it.
		 */
		expect(re, ms = 8000) {
			return new Promise((resolve, reject) => {
				const check = () => {
					const s = rx.toString("latin1", mark);
					const m = re.exec(s);
					if (!m) return false;
					mark += Buffer.byteLength(s.slice(0, m.index + m[0].length), "latin1");
					waiters.delete(check);
					clearTimeout(timer);
					resolve(m);
					return true;
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`expected ${re} within ${ms} ms; got since last match: ${JSON.stringify(rx.toString("latin1", mark))}`));
				}, ms);
				if (!check()) waiters.add(check);
			});
		},
		/**
		 * Waits until every regex matches somewhere in what came since the last expect()
		 * (URCs whose order is up to the broker); consumes up to the furthest match.
		 */
		expectAll(res, ms = 8000) {
			return new Promise((resolve, reject) => {
				const check = () => {
					const s = rx.toString("latin1", mark);
					const found = res.map((re) => re.exec(s));
					if (found.some((m) => !m)) return false;
					const end = Math.max(...found.map((m) => m.index + m[0].length));
					mark += Buffer.byteLength(s.slice(0, end), "latin1");
					waiters.delete(check);
					clearTimeout(timer);
					resolve(found);
					return true;
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`expected all of ${res.join(" ")} within ${ms} ms; got since last match: ${JSON.stringify(rx.toString("latin1", mark))}`));
				}, ms);
				if (!check()) waiters.add(check);
			});
		},
		/** Sends a command line (CR LF appended) and waits for its final result (OK/ERROR) or `until`. */
		async cmd(line, until = /\r\n(OK|ERROR)\r\n/, ms) {
			modem.send(line + "\r\n");
			const m = await modem.expect(until, ms);
			return m;
		},
		/** Lines received since the given offset, without empty ones. */
		linesSince(offset) {
			return rx.toString("latin1", offset).split(/\r\n|\r|\n/).filter((l) => l.length);
		},
		get received() {
			return rx.length;
		},
		saveTranscript(name) {
			const dir = process.env.AT_TRANSCRIPT_DIR;
			if (dir) fs.writeFileSync(path.join(dir, name), rx);
		},
		async stop() {
			socket.destroy();
			server.close();
			await app.stop();
		},
	};
	return modem;
}

/** Publishes `count` QoS 1 messages of `size` bytes ("<nn>ppp...") with one mosquitto_pub -l. */
export function burst(port, topic, count, size) {
	return new Promise((resolve, reject) => {
		const child = spawn("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), "-t", topic, "-q", "1", "-l"], {stdio: ["pipe", "ignore", "pipe"]});
		let stderr = "";
		child.stderr.on("data", (d) => (stderr += d));
		child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_pub: ${code} ${stderr}`))));
		for (let i = 0; i < count; i++) child.stdin.write(String(i).padStart(2, "0") + "p".repeat(size - 2) + "\n");
		child.stdin.end();
	});
}

/** Waits until `re` (global) matches `count` times in the modem's output; returns the matches. */
export async function waitCount(m, re, count, ms) {
	const deadline = Date.now() + ms;
	for (;;) {
		const found = [...m.text.matchAll(re)];
		if (found.length >= count || Date.now() > deadline) return found;
		await new Promise((r) => setTimeout(r, 50));
	}
}
