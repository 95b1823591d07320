/*
 * mqttc/iotls (manifest_io_tls.json): what TLS over the ECMA-419 socket adds to mqttc/io,
 * kept out of it so that an app on plain ECMA-419 TCP carries none of it: `ssl` read into the
 * `secure` dictionary the SDK's ECMA-419 TLS socket takes (mqttc/tls's reading, one CA), that
 * socket's entry, and its TCP constructor wrapped so that its handshake cannot abort the VM.
 */

import Modules from "modules";
import type { IoConstructor, IoSocketEntry, SecureDictionary, SslOptions, TlsModule } from "mqttc/types";

/** What create() takes through Modules.importNow("mqttc/iotls") (via mqttc/io). */
export default Object.freeze({
	/** The `secure` dictionary of `ssl`, or why there is none. */
	secure(ssl: unknown): SecureDictionary | string {
		const settings = (Modules.importNow("mqttc/tls") as TlsModule).tlsSettings(ssl as true | SslOptions);
		if (typeof settings === "string") return settings;
		// The classic socket's TLS transport rotates through a bundle; here one socket has one CA.
		if (settings.authorities.length > 1) return "io with ssl: one server_cert CA (a bundle is not rotated over ECMA-419)";
		return settings.secure;
	},

	/** The SDK's TLS socket over its TCP socket, as the host provider's entry would give it. */
	socket(): IoSocketEntry | string {
		if (!Modules.has("embedded:io/socket/tcp/tls")) return "io with ssl needs embedded:io/socket/tcp/tls: include mqttc's manifest_io_tls.json";
		return { io: Modules.importNow("embedded:io/socket/tcp/tls") as IoConstructor, TCP: { io: Modules.importNow("embedded:io/socket/tcp") as IoConstructor } };
	},

	/**
	 * The TLS socket's `TCP` entry with its callbacks guarded: the SDK's TLS socket runs its
	 * handshake in them and lets what it throws (a refused certificate) escape to the host,
	 * which aborts the VM (mcsim); caught here, it goes to `fail`.
	 */
	guard(tcp: IoSocketEntry, fail: (e: unknown) => void): IoSocketEntry {
		const TCP = tcp.io;
		const wrap = (f: unknown) => typeof f !== "function" ? f : function (this: unknown, count?: number) {
			try {
				return (f as (count?: number) => unknown).call(this, count);
			}
			catch (e) {
				fail(e);
			}
		};
		const io = function (options: Record<string, unknown>) {
			return new TCP({ ...options, onReadable: wrap(options.onReadable), onWritable: wrap(options.onWritable), onError: wrap(options.onError) });
		} as unknown as IoConstructor;
		return { ...tcp, io };
	},
});
