/*
 * mcsim check (tests/sdk/mcsim-check.mjs, scenario 6): TLS verification is never skipped
 * by session resumption. In one run (the SDK's TLS session cache lives as long as the VM),
 * connect one client after the other and trace whether each reached CONNACK:
 *   host 127.0.0.1: wrong CA (must fail), right CA (must connect), wrong CA (must fail)
 *   host otherHost: verify 0 (connects), then wrong CA (must fail)
 * The CAs arrive through the config as the base64 bodies of PEM certificates.
 */
import mqtt from "mqttc";
import config from "mc/config";
import Timer from "timer";

const settings = config as unknown as { host: string; port: number | string; ca: string; wrong: string; otherHost: string };

const pem = (body: string): string => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;

interface Step { name: string; host: string; ssl: { server_cert?: string; verify?: 0 | 2 } }

export default function main(): void {
	const steps: Step[] = [
		{ name: "wrong-ca-first", host: settings.host, ssl: { server_cert: pem(settings.wrong) } },
		{ name: "right-ca", host: settings.host, ssl: { server_cert: pem(settings.ca) } },
		{ name: "wrong-ca-after-right", host: settings.host, ssl: { server_cert: pem(settings.wrong) } },
		{ name: "verify0", host: settings.otherHost, ssl: { verify: 0 } },
		{ name: "wrong-ca-after-verify0", host: settings.otherHost, ssl: { server_cert: pem(settings.wrong) } },
	];
	const run = (index: number): void => {
		const step = steps[index];
		if (!step) {
			trace("DONE\n");
			return;
		}
		const client = mqtt.create(null, step.host, Number(settings.port), step.ssl, { rxSize: 1024, conn_timeout: 15 });
		if (!client) {
			trace(`tls ${step.name} failed (create refused)\n`);
			Timer.set(() => run(index + 1), 10);
			return;
		}
		const outcome = { reported: false, error: "" };
		const report = (result: string): void => {
			if (outcome.reported) return;
			outcome.reported = true;
			trace(`tls ${step.name} ${result}\n`);
			Timer.set(() => {
				client.close();
				run(index + 1);
			}, 200);
		};
		client.auth(`sdkcheck-tls-${index}`);
		client.on((_c, event, data, payload) => {
			if (event === "conack") report("connected");
			else if (event === "error") outcome.error = `${data} ${payload ?? ""}`;
			else if (event === "disconnect") report(`failed (${data}; error ${outcome.error})`);
		});
		client.connect();
	};
	run(0);
}
