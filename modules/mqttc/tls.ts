/*
 * mqttc/tls: the TLS transport (an opt-in feature: apps include mqttc's manifest_tls.json,
 * and create() loads this module with Modules.importNow only when `ssl` is set, so a plain
 * app carries none of it). create() turns the `ssl` argument into settings (mqttc/pem) and
 * the link opens each connection through transport(): a SecureSocket with those settings.
 *
 * Moddable's TLS trusts exactly one CA certificate per connection, so with a bundle the
 * transport rotates: a connection that fails before it is up (construction throws, e.g. an
 * expired CA, or -2) is tried again at once with the bundle's next CA, until each has failed
 * once in this attempt; the next attempt starts from the CA that worked last.
 */

import Modules from "modules";
import { tlsSettings } from "mqttc/pem";
import type { LinkSocket, SslOptions, TlsSettings, Transport } from "mqttc/types";

class TlsTransport implements Transport {
	readonly label = " (TLS)";
	private settings: TlsSettings;
	/** Which CA of a bundle the next connection trusts. */
	private authority = 0;
	/** CAs of the bundle that failed in this attempt. */
	private tried = 0;

	constructor(settings: TlsSettings) {
		this.settings = settings;
	}

	open(host: string, port: number): LinkSocket {
		const secure = { ...this.settings.secure };
		const authorities = this.settings.authorities;
		if (authorities.length > 1) secure.certificate = authorities[this.authority % authorities.length];
		const SecureSocket = Modules.importNow("securesocket") as new (dictionary: object) => LinkSocket;
		return new SecureSocket({ host, port, noDelay: true, secure });
	}

	restart(): void {
		this.tried = 0;
	}

	retry(socket: LinkSocket | undefined, link: { note(text: string): void }): boolean {
		const count = this.settings.authorities.length;
		if (count < 2) return false;
		this.authority = (this.authority + 1) % count;
		if (++this.tried >= count) {
			this.tried = 0;
			return false;
		}
		link.note(`TLS connection failed${failureDetail(socket)}; trying CA ${this.authority + 1} of ${count}`);
		return true;
	}

	failure(socket: LinkSocket | undefined, error?: unknown): string {
		if (error !== undefined) return `cannot open connection: ${(error as Error).message}`;
		return "TLS connection failed (refused, handshake or certificate)" + failureDetail(socket);
	}
}

/**
 * Why a connection failed, when the host can tell: the desktop XS host exposes the TLS or
 * TCP error as `socket.lastError`; a device reports only -2, and this returns "".
 */
function failureDetail(socket: unknown): string {
	const error = (socket as { lastError?: { code?: string; message?: string } } | undefined)?.lastError;
	if (!error?.message) return "";
	const code = error.code ?? "";
	const kind = /^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND)$/.test(code) ? "connection refused"
		: /CERT|UNABLE_TO|SELF_SIGNED|ALTNAME/.test(code) ? "certificate rejected" : "handshake failed";
	return `: ${kind} (${code} ${error.message})`;
}

/** What create() takes through Modules.importNow("mqttc/tls"): TLS code is loaded only by
 * apps built with manifest_tls.json. */
export default Object.freeze({
	/** The settings of an `ssl` argument, or why there are none. The SDK's TLS session
	 * (`ssl/session`) is one module, and crypt/tls.json (SecureSocket) and tls_419.json (the
	 * ECMA-419 TLS socket) bring different ones: with both manifests one of them breaks
	 * (mcsim: a crash, or no handshake), so that app is refused here. */
	tlsSettings(ssl: true | SslOptions): TlsSettings | string {
		if (Modules.has("securesocket") && Modules.has("embedded:io/socket/tcp/tls")) return "manifest_tls.json and manifest_io_tls.json cannot go together: the SDK's ssl/session is either SecureSocket's or the ECMA-419 TLS socket's";
		return tlsSettings(ssl);
	},
	transport(settings: TlsSettings): Transport {
		return new TlsTransport(settings);
	},
});
