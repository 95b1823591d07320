// A real mosquitto for tests: started on 127.0.0.1 with a free port and a config of the
// test's choosing, stopped (or killed and restarted) on request. Never any other address.
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, listening } from "../helpers/net.mjs";

export const MOSQUITTO = process.env.MOSQUITTO ?? "/usr/sbin/mosquitto";

export { freePort };

/**
 * mosquitto with TLS listeners on 127.0.0.1, at TLS 1.2 as Moddable's TLS: one per entry of
 * `listeners` ({requireCertificate?}), each on a free port with the CA of `certs` (from
 * tests/lib/certs.mjs) and the server certificate `cert` (its chain and key; default
 * certs.server); `plain: true` adds a plain listener (for mosquitto_sub/pub). Returns the
 * broker with `ports` (the TLS listeners', in order; `port` is the first) and `plain`.
 */
export async function startTlsBroker(certs, { cert = certs.server, listeners = [{}], plain = false } = {}) {
	const ports = [];
	for (let i = 0; i < listeners.length; i++) ports.push(await freePort());
	const plainPort = plain ? await freePort() : undefined;
	// started as root, mosquitto drops to its own user and could not write its log
	const lines = [...(process.getuid?.() === 0 ? ["user root"] : []), ...(plainPort ? [`listener ${plainPort} 127.0.0.1`] : [])];
	listeners.forEach(({ requireCertificate = false }, i) => lines.push(
		`listener ${ports[i]} 127.0.0.1`, `cafile ${certs.ca.path}`, `certfile ${cert.chain}`, `keyfile ${cert.key}`,
		"tls_version tlsv1.2", ...(requireCertificate ? ["require_certificate true"] : [])));
	const broker = await startBroker({ listener: false, port: ports[0], lines });
	return Object.assign(broker, { ports, plain: plainPort });
}

/**
 * Starts mosquitto. `lines` are extra config lines (listener options, password_file...).
 * Returns {port, dir, stop(), kill(), restart(), log()}.
 */
export async function startBroker({ lines = [], port, listener = true } = {}) {
	port ??= await freePort();
	const dir = mkdtempSync(join(tmpdir(), "mqttc-broker-"));
	// As root, mosquitto drops to its own user: it must be able to read the config's files
	// and write its log and database here.
	chmodSync(dir, 0o777);
	const conf = join(dir, "mosquitto.conf");
	const config = [
		...(listener ? [`listener ${port} 127.0.0.1`] : []),
		"allow_anonymous true",
		"persistence false",
		`log_dest file ${join(dir, "broker.log")}`,
		"log_type all",
		...lines,
	].join("\n") + "\n";
	writeFileSync(conf, config);
	let child;
	const running = () => child && child.exitCode === null && child.signalCode === null;
	const launch = async () => {
		child = spawn(MOSQUITTO, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
		let stderr = "";
		child.stderr.on("data", (d) => { stderr += d; });
		const exited = new Promise((resolve) => child.once("exit", resolve));
		await Promise.race([
			listening(port),
			exited.then((code) => { throw new Error(`mosquitto exited (${code}): ${stderr}`); }),
		]);
	};
	await launch();
	const broker = {
		port,
		dir,
		/** The running mosquitto's process id (SIGSTOP/SIGCONT: a broker that stops answering). */
		get pid() { return child.pid; },
		/** SIGKILL: the broker vanishes without closing anything gracefully. */
		async kill() {
			if (!running()) return;
			const exited = new Promise((resolve) => child.once("exit", resolve));
			child.kill("SIGKILL");
			await exited;
		},
		/** SIGTERM: the broker closes and, with persistence on, writes its database. */
		async stopGracefully() {
			if (!running()) return;
			const exited = new Promise((resolve) => child.once("exit", resolve));
			child.kill("SIGTERM");
			await exited;
		},
		async restart() {
			await broker.kill();
			await launch();
		},
		async stop() {
			await broker.kill();
			rmSync(dir, { recursive: true, force: true });
		},
		log() {
			try { return readFileSync(join(dir, "broker.log"), "utf8"); } catch { return ""; }
		},
	};
	return broker;
}

/** Runs mosquitto_pub with the given arguments against 127.0.0.1:port. */
export function mosquittoPub(port, args) {
	return new Promise((resolve, reject) => {
		execFile("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10000 }, (error, stdout, stderr) => {
			if (error) reject(new Error(`mosquitto_pub failed: ${stderr || error.message}`));
			else resolve(stdout);
		});
	});
}

/**
 * Starts mosquitto_sub; returns {lines, waitFor(n), stop()} collecting "topic payload" lines
 * (-v) from 127.0.0.1:port.
 */
export async function mosquittoSub(port, args) {
	const child = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", String(port), "-v", ...args], { stdio: ["ignore", "pipe", "pipe"] });
	const lines = [];
	let buffer = "";
	const waiters = [];
	child.stdout.on("data", (d) => {
		buffer += d;
		let i;
		while ((i = buffer.indexOf("\n")) >= 0) {
			lines.push(buffer.slice(0, i));
			buffer = buffer.slice(i + 1);
		}
		for (const w of waiters.slice()) w();
	});
	await new Promise((r) => setTimeout(r, 300)); // let it subscribe
	return {
		lines,
		waitFor(n, ms = 10000) {
			return new Promise((resolve, reject) => {
				const check = () => {
					if (lines.length >= n) { clearTimeout(timer); resolve(lines); return true; }
					return false;
				};
				const timer = setTimeout(() => reject(new Error(`mosquitto_sub saw ${lines.length} of ${n} lines: ${lines.slice(-5).join(" | ")}`)), ms);
				if (!check()) waiters.push(check);
			});
		},
		stop() { child.kill(); },
	};
}
