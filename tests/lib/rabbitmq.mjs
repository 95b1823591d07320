// Real RabbitMQ nodes for tests (Debian's rabbitmq-server with its MQTT plugin): each node
// is a child process on 127.0.0.1 with free ports, its own HOME (Erlang cookie), mnesia and
// log directories under one temp dir, and its own epmd on a free port, so nothing clashes
// with a system RabbitMQ or with another test run. Never any other address.
//
// A node takes 11-14 s to start and ~7 s to restart: test files share theirs across tests.
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, listening } from "../helpers/net.mjs";

const RABBIT_BIN = process.env.RABBITMQ_BIN ?? "/usr/lib/rabbitmq/bin";
const EPMD = process.env.EPMD ?? "epmd";

// Nodes run in process groups of their own, which a Ctrl-C or the test runner's SIGTERM
// does not reach: whatever is still running when this process ends is killed with it.
const live = new Map();              // pid -> kill()
function reap() {
	for (const kill of live.values()) kill();
	live.clear();
}
process.once("exit", reap);
for (const name of ["SIGINT", "SIGTERM"]) {
	process.once(name, () => {
		reap();
		process.kill(process.pid, name);   // then end as the signal asks (the handler is gone)
	});
}

/** Keeps track of a child until it exits; `kill` ends it (and its group) at once. */
function track(child, kill) {
	live.set(child.pid, kill);
	child.once("exit", () => live.delete(child.pid));
}

/** A dedicated epmd (Erlang port mapper) on 127.0.0.1 and a free port. */
async function startEpmd() {
	const port = await freePort();
	const child = spawn(EPMD, ["-port", String(port), "-address", "127.0.0.1"], { stdio: "ignore" });
	track(child, () => child.kill("SIGKILL"));
	await listening(port, 5000);
	return {
		port,
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			const exited = new Promise((resolve) => child.once("exit", resolve));
			child.kill("SIGKILL");
			await exited;
		},
	};
}

/**
 * One node: `name` is its short name (the node is name@localhost). `config` lines go to its
 * rabbitmq.conf after the MQTT listener and anonymous access lines.
 */
async function makeNode(base, epmd, cookie, name, config) {
	const dir = join(base, name);
	const home = join(dir, "home");
	mkdirSync(home, { recursive: true });
	writeFileSync(join(home, ".erlang.cookie"), cookie, { mode: 0o400 });
	const ports = { amqp: await freePort(), mqtt: await freePort(), ws: await freePort(), dist: await freePort(), cli: await freePort() };
	const conf = join(dir, "rabbitmq.conf");
	writeFileSync(conf, [
		`listeners.tcp.default = 127.0.0.1:${ports.amqp}`,
		`mqtt.listeners.tcp.default = 127.0.0.1:${ports.mqtt}`,
		// MQTT over WebSocket (rabbitmq_web_mqtt): path /ws, subprotocol mqtt
		`web_mqtt.tcp.ip = 127.0.0.1`,
		`web_mqtt.tcp.port = ${ports.ws}`,
		"mqtt.allow_anonymous = true",
		"loopback_users = none",
		"log.console = false",
		"log.file.level = info",
		...config,
	].join("\n") + "\n");
	const plugins = join(dir, "enabled_plugins");
	writeFileSync(plugins, "[rabbitmq_mqtt,rabbitmq_web_mqtt].\n");
	const node = `${name}@localhost`;
	const env = {
		PATH: process.env.PATH,
		LANG: "C.UTF-8",
		HOME: home,
		ERL_EPMD_PORT: String(epmd.port),
		ERL_EPMD_ADDRESS: "127.0.0.1",
		RABBITMQ_NODENAME: node,
		RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
		RABBITMQ_NODE_PORT: String(ports.amqp),
		RABBITMQ_DIST_PORT: String(ports.dist),
		// The CLI tools' own distribution port (default: the fixed range 35672-35682).
		RABBITMQ_CTL_DIST_PORT_MIN: String(ports.cli),
		RABBITMQ_CTL_DIST_PORT_MAX: String(ports.cli),
		RABBITMQ_CONFIG_FILE: conf,
		RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
		RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
		RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
		RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
		RABBITMQ_LOG_BASE: join(dir, "log"),
		RABBITMQ_PID_FILE: join(dir, "rabbit.pid"),
		RABBITMQ_SERVER_ERL_ARGS: `+P 1048576 -kernel inet_dist_use_interface {127,0,0,1} -kernel inet_dist_listen_min ${ports.dist} -kernel inet_dist_listen_max ${ports.dist}`,
	};
	let child;
	let output = "";
	const running = () => child && child.exitCode === null && child.signalCode === null;

	/** rabbitmqctl against this node, with its HOME (cookie) and epmd. */
	const ctl = (...args) => new Promise((resolve, reject) => {
		execFile(join(RABBIT_BIN, "rabbitmqctl"), ["-n", node, "-q", ...args], { env, timeout: 60000 }, (error, stdout, stderr) => {
			if (error) reject(new Error(`rabbitmqctl ${args.join(" ")} failed: ${stderr || stdout || error.message}`));
			else resolve(stdout);
		});
	});

	const rabbit = {
		name: node,
		ports,
		get port() { return ports.mqtt; },
		/** The web_mqtt listener (path /ws). */
		get wsPort() { return ports.ws; },
		dir,
		ctl,
		/** Starts the node and waits until it has booted: its MQTT listener opens before the
		 * boot has ended (about 100 ms before "Server startup complete"), so the end is
		 * awaited too (rabbitmqctl await_startup) and the caller meets a booted node. */
		async start(ms = 60000) {
			if (running()) return;
			// Its own process group: the script, the Erlang VM and its helpers go down together.
			child = spawn(join(RABBIT_BIN, "rabbitmq-server"), [], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
			const started = child;
			track(started, () => signal(started, "SIGKILL"));
			child.stdout.on("data", (d) => { output = (output + d).slice(-20000); });
			child.stderr.on("data", (d) => { output = (output + d).slice(-20000); });
			const exited = new Promise((resolve) => child.once("exit", resolve));
			await Promise.race([
				listening(ports.mqtt, ms),
				exited.then((code) => { throw new Error(`rabbitmq-server ${node} exited (${code}): ${output.slice(-3000)}`); }),
			]);
			await ctl("await_startup", "--timeout", String(Math.ceil(ms / 1000)));
		},
		/** Graceful stop (the node leaves the cluster's running set but stays a member). */
		async stop() {
			if (!running()) return;
			const exited = new Promise((resolve) => child.once("exit", resolve));
			signal(child, "SIGTERM");           // the script asks the VM to stop cleanly
			const timer = setTimeout(() => signal(child, "SIGKILL"), 30000);
			await exited;
			clearTimeout(timer);
		},
		/** SIGKILL of the whole node: its connections vanish without goodbye. */
		async kill() {
			if (!running()) return;
			const exited = new Promise((resolve) => child.once("exit", resolve));
			signal(child, "SIGKILL");
			await exited;
		},
		async restart() {
			await rabbit.stop();
			await rabbit.start();
		},
		/** The node's log (for failure messages). */
		log() {
			try {
				const logs = join(dir, "log");
				return readdirSync(logs).map((f) => readFileSync(join(logs, f), "utf8")).join("\n") + output;
			}
			catch { return output; }
		},
	};
	return rabbit;
}

/** Signals a node's whole process group (the script and the Erlang VM under it). */
function signal(child, name) {
	try { process.kill(-child.pid, name); }
	catch { /* already gone */ }
}

function randomName(prefix) {
	return `${prefix}${process.pid}x${Math.floor(Math.random() * 1e6)}`;
}

/**
 * Starts one RabbitMQ node with the MQTT plugin. Returns the node ({port, ctl, stop(),
 * restart(), ...}); `shutdown()` stops it, its epmd, and removes its files.
 */
export async function startRabbit({ config = [] } = {}) {
	const base = mkdtempSync(join(tmpdir(), "mqttc-rabbit-"));
	const epmd = await startEpmd();
	const cookie = randomName("cookie");
	const node = await makeNode(base, epmd, cookie, randomName("mqttca"), config);
	try { await node.start(); }
	catch (e) { await epmd.stop(); rmSync(base, { recursive: true, force: true }); throw e; }
	node.shutdown = async () => {
		await node.stop();
		await epmd.stop();
		rmSync(base, { recursive: true, force: true });
	};
	return node;
}

/**
 * Starts a two-node cluster that both nodes know from their config (classic peer discovery):
 * `a` boots first and forms it, then `b` boots and joins `a` as part of its first boot. Both
 * share one epmd and one cookie. Returns {a, b, shutdown()}.
 *
 * Not rabbitmqctl stop_app / join_cluster / start_app on a booted `b` (a reset of a running
 * node), as before: now and then `b` was gone by the time join_cluster ran ("node not
 * running at all"; once in about 70 formations here, and in one CI run; its log went with
 * its files). A formation that fails all the same is reported with both nodes' logs and
 * tried once more from scratch: a broker that did not boot says nothing of mqttc.
 */
export async function startRabbitCluster({ config = [] } = {}) {
	try {
		return await formCluster(config);
	}
	catch (e) {
		process.stderr.write(`RabbitMQ cluster formation failed, trying once more: ${e.message}\n`);
		return formCluster(config);
	}
}

async function formCluster(config) {
	const base = mkdtempSync(join(tmpdir(), "mqttc-rabbit-"));
	const epmd = await startEpmd();
	const cookie = randomName("cookie");
	const names = [randomName("mqttca"), randomName("mqttcb")];
	const discovery = [
		"cluster_formation.peer_discovery_backend = classic_config",
		...names.map((name, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${name}@localhost`),
	];
	const a = await makeNode(base, epmd, cookie, names[0], [...discovery, ...config]);
	const b = await makeNode(base, epmd, cookie, names[1], [...discovery, ...config]);
	const shutdown = async () => {
		await Promise.all([b.stop(), a.stop()]);
		await epmd.stop();
		rmSync(base, { recursive: true, force: true });
	};
	try {
		await a.start();
		await b.start();
		const status = JSON.parse(await a.ctl("cluster_status", "--formatter", "json"));
		if (!status.running_nodes?.includes(b.name)) throw new Error(`${b.name} did not join ${a.name}: ${JSON.stringify(status.running_nodes)}`);
	}
	catch (e) {
		// The nodes' logs go with the error: they are deleted with the nodes' files.
		e.message += `\n--- ${a.name} ---\n${a.log().slice(-4000)}\n--- ${b.name} ---\n${b.log().slice(-4000)}`;
		await shutdown();
		throw e;
	}
	return { a, b, shutdown };
}
