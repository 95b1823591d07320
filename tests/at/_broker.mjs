// A mosquitto for the AT tests: 127.0.0.1 only, a free port, anonymous unless told
// otherwise, log kept in memory. kill() is SIGKILL (the broker vanishes without a word),
// start() brings it back on the same port.
import {spawn} from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const MOSQUITTO = process.env.MOSQUITTO ?? "/usr/sbin/mosquitto";

export function haveMosquitto() {
	return fs.existsSync(MOSQUITTO);
}

export function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once("error", reject);
		s.listen(0, "127.0.0.1", () => {
			const {port} = s.address();
			s.close(() => resolve(port));
		});
	});
}

function accepts(port) {
	return new Promise((resolve) => {
		const s = net.connect(port, "127.0.0.1");
		s.once("connect", () => {
			s.destroy();
			resolve(true);
		});
		s.once("error", () => resolve(false));
	});
}

export async function mosquitto({lines = []} = {}) {
	const port = await freePort();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-at-broker-"));
	fs.chmodSync(dir, 0o755); // mosquitto started as root reads its files as user "mosquitto"
	const conf = path.join(dir, "mosquitto.conf");
	fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "persistence false", "log_dest stderr", "log_type all", ...lines, ""].join("\n"));
	let child = null;
	let log = "";
	const broker = {
		port,
		dir,
		log: () => log,
		async start() {
			const c = spawn(MOSQUITTO, ["-c", conf], {stdio: ["ignore", "pipe", "pipe"]});
			child = c;
			c.stdout.on("data", (d) => (log += d));
			c.stderr.on("data", (d) => (log += d));
			const exited = new Promise((resolve) => c.once("exit", resolve));
			c.exited = exited;
			const deadline = Date.now() + 5000;
			for (;;) {
				if (c.exitCode !== null || c.signalCode !== null) throw new Error(`mosquitto exited: ${log}`);
				if (await accepts(port)) return broker;
				if (Date.now() > deadline) throw new Error(`mosquitto does not listen on ${port}: ${log}`);
				await new Promise((r) => setTimeout(r, 50));
			}
		},
		async kill() {
			const c = child;
			child = null;
			if (!c || c.exitCode !== null || c.signalCode !== null) return;
			c.kill("SIGKILL");
			await c.exited;
		},
		async stop() {
			await broker.kill();
			fs.rmSync(dir, {recursive: true, force: true});
		},
	};
	return broker.start();
}
