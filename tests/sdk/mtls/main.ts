/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenarios 6c and 6d): mutual TLS with the seed's
 * ssl table {server_cert, client_cert, client_key[, client_password]}. In one run, for each
 * form of the list the driver passes, one client after the other: create(), connect,
 * subscribe at QoS 1, publish one QoS 1 message, receive it back, disconnect. One line per
 * form:
 *
 *   mtls <name> conack <ms> ms, recv <ms> ms, end <reason>      (ms from connect())
 *   mtls <name> conack none, recv none, end <reason>, error <kind> "<message>" after <ms> ms
 *   mtls <name> refused by create()                              (mqttc traced why, above)
 *
 * then DONE. Nothing is decided here: the driver knows which forms must connect.
 *
 * The data comes through the config (command-line key=value of mcconfig), as strings:
 *   files  JSON {"<file name>": "<base64 of the file's bytes>"}: a name ending in ".der" is
 *          handed to create() as bytes (an ArrayBuffer), any other as text (PEM)
 *   forms  JSON [{name, ca?, cert?, key?, password?, port?}]: ca, cert and key name files;
 *          ca is server_cert, cert client_cert, key client_key, password client_password
 *          (passed as given, for encrypted keys); a form without cert and key offers no
 *          client certificate; port defaults to the config's port
 */
import mqtt from "mqttc";
import config from "mc/config";
import Timer from "timer";

interface Form { name: string; ca?: string; cert?: string; key?: string; password?: string; port?: number }

const settings = config as unknown as { host: string; port: number | string; files: string; forms: string; id: string };

/** Bytes of base64 text (no Uint8Array.fromBase64 in every XS). */
function fromBase64(text: string): Uint8Array {
	const value = (c: number): number => {
		if (c >= 65 && c <= 90) return c - 65;
		if (c >= 97 && c <= 122) return c - 71;
		if (c >= 48 && c <= 57) return c + 4;
		if (c === 43) return 62;
		if (c === 47) return 63;
		return -1;
	};
	const out = new Uint8Array((text.length * 3) >> 2);
	let bits = 0;
	let count = 0;
	let length = 0;
	for (let i = 0; i < text.length; i++) {
		const v = value(text.charCodeAt(i));
		if (v < 0) continue;
		bits = ((bits << 6) | v) & 0xFFFFFF;
		count += 6;
		if (count >= 8) {
			count -= 8;
			out[length++] = (bits >> count) & 0xFF;
		}
	}
	return out.slice(0, length);
}

const files = JSON.parse(settings.files || "{}") as Record<string, string>;

/** A file as create() takes it: text for PEM, an ArrayBuffer for ".der". */
function file(name: string): string | ArrayBuffer {
	const body = files[name];
	if (body === undefined) throw new Error(`no file "${name}" in config.files`);
	const bytes = fromBase64(body);
	return name.endsWith(".der") ? bytes.buffer as ArrayBuffer : String.fromArrayBuffer(bytes.buffer as ArrayBuffer);
}

function sslFor(form: Form): Record<string, unknown> {
	const ssl: Record<string, unknown> = {};
	if (form.ca !== undefined) ssl.server_cert = file(form.ca);
	if (form.cert !== undefined) ssl.client_cert = file(form.cert);
	if (form.key !== undefined) ssl.client_key = file(form.key);
	if (form.password !== undefined) ssl.client_password = form.password;
	return ssl;
}

export default function main(): void {
	const forms = JSON.parse(settings.forms || "[]") as Form[];
	const run = (index: number): void => {
		const form = forms[index];
		if (!form) {
			trace("DONE\n");
			return;
		}
		const next = (): void => { Timer.set(() => run(index + 1), 200); };
		let ssl: Record<string, unknown>;
		try {
			ssl = sslFor(form);
		}
		catch (error) {
			trace(`mtls ${form.name} bad form: ${(error as Error).message}\n`);
			next();
			return;
		}
		const client = mqtt.create(null, settings.host, Number(form.port ?? settings.port), ssl, { rxSize: 1024, conn_timeout: 20 });
		if (!client) {
			trace(`mtls ${form.name} refused by create()\n`);
			next();
			return;
		}
		const topic = `mqttc/sdkcheck/mtls/${index}`;
		const payload = `hello ${form.name}`;
		const state = { conack: -1, recv: -1, error: "", errorAt: -1, finished: false };
		let started = 0;
		let published = 0;
		const finish = (end: string): void => {
			if (state.finished) return;
			state.finished = true;
			Timer.clear(guard);
			const conack = state.conack >= 0 ? `conack ${state.conack} ms` : "conack none";
			const recv = state.recv >= 0 ? `recv ${state.recv} ms` : "recv none";
			const error = state.error ? `, error ${state.error} after ${state.errorAt} ms` : "";
			trace(`mtls ${form.name} ${conack}, ${recv}, end ${end}${error}\n`);
			Timer.set(() => {
				client.close();
				next();
			}, 100);
		};
		// whatever happens after CONNACK (no SUBACK, the message never back), the form ends
		const guard = Timer.set(() => finish("timeout (30 s)"), 30000);
		client.auth(`${settings.id}-${index}`);
		client.on((_c, event, data, extra) => {
			switch (event) {
			case "conack":
				state.conack = Date.now() - started;
				client.subscribe(topic, 1);
				break;
			case "suback":
				published = Date.now();
				client.publish(topic, payload, 1);
				break;
			case "recv":
				if (data === topic && extra === payload && state.recv < 0) {
					state.recv = Date.now() - published;
					client.disconnect();
				}
				break;
			case "error":
				if (!state.error) {
					state.error = `${data} "${extra ?? ""}"`;
					state.errorAt = Date.now() - started;
				}
				break;
			case "disconnect":
				finish(`disconnect ${data}`);
				break;
			}
		});
		started = Date.now();
		client.connect();
	};
	run(0);
}
