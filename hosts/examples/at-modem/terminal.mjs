#!/usr/bin/env node
// Type AT commands at the at-modem app running in the desktop XS host.
//
//   node hosts/examples/at-modem/terminal.mjs [--port N] [--no-app] [--baud B]
//
// Listens on 127.0.0.1 (a free port, or --port N), starts the app with config.uart_port
// pointing there (unless --no-app: then start it yourself with that uart_port), and
// connects the app's "UART" to this terminal: what you type goes to the engine byte by
// byte (Enter sends CR, Ctrl-Z and Esc go through for data mode), what the engine writes
// is shown as it comes; --baud B makes the app's stand-in UART send no faster than B baud
// would (e.g. 115200), as on a device. Ctrl-C quits. Run a broker on 127.0.0.1 first, e.g.
// `mosquitto -p 1883`, then: AT+ECMTOPEN=0,"127.0.0.1",1883
import net from "node:net";
import path from "node:path";
import {fileURLToPath} from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const portArg = argv.indexOf("--port");
const wanted = portArg >= 0 ? Number(argv[portArg + 1]) : 0;
const startTheApp = !argv.includes("--no-app");
const baudArg = argv.indexOf("--baud");
const baud = baudArg >= 0 ? Number(argv[baudArg + 1]) || 0 : 0;

const server = net.createServer();
await new Promise((resolve, reject) => {
	server.once("error", reject);
	server.listen(wanted, "127.0.0.1", resolve);
});
const {port} = server.address();
process.stderr.write(`uart listening on 127.0.0.1:${port}\n`);

let uart = null;
let app = null;
let early = []; // what was typed before the app connected (piped input), sent on connect
server.on("connection", (socket) => {
	if (uart) uart.destroy();
	uart = socket;
	process.stderr.write("[app connected; type AT commands, Ctrl-C quits]\n");
	for (const d of early) socket.write(d);
	early = [];
	socket.on("data", (d) => process.stdout.write(d));
	socket.on("close", () => {
		if (uart === socket) uart = null;
	});
	socket.on("error", () => {});
});

if (process.stdin.isTTY) process.stdin.setRawMode(true);
process.stdin.on("data", (d) => {
	if (d.includes(0x03)) return quit();
	if (!process.stdin.isTTY) d = Buffer.from(d.toString("latin1").replace(/\r?\n/g, "\r"), "latin1");
	if (uart) uart.write(d);
	else if (early.length < 256) early.push(d);
});
process.stdin.on("end", () => setTimeout(quit, 1000));

async function quit() {
	if (process.stdin.isTTY) process.stdin.setRawMode(false);
	uart?.destroy();
	server.close();
	await app?.stop();
	process.exit(0);
}

if (startTheApp) {
	const {startApp} = await import("../../xs/host.mjs");
	app = await startApp(here, {config: {uart_port: port, uart_baud: baud}, stdout: false, stderr: true});
	app.exited?.then((info) => {
		process.stderr.write(`[app ended: ${info.code} ${info.message}]\n`);
		quit();
	});
}
