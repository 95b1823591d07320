/*
 * Typings of the AT command front end for app authors: `import {AtEngine} from "mqttc-at"`.
 * An app that includes mqttc's manifest_at.json gets them through mcconfig's tsconfig.
 */

declare module "mqttc-at" {
	/** Options of the engine. Every bound has a default; see README, "AT modem front end". */
	export interface AtEngineOptions {
		/** Sends bytes to the serial line: responses, echo, prompts and unsolicited result codes. */
		write(bytes: ArrayBuffer | string): void;
		/** Longest command line in bytes, terminator excluded (default 2048, minimum 64). */
		lineMax?: number;
		/** Largest AT+ECMTPUB data-mode payload in bytes (default 4096, minimum 16). */
		dataMax?: number;
		/** Bytes of unsolicited result codes held back while in data mode (default 4096). */
		urcMax?: number;
		/** Receive buffer of each client (mqtt.create rxSize; default 4096). */
		rxSize?: number;
		/** Echo on at start (default true, like a modem after power-up). */
		echo?: boolean;
		/** The line ATI and AT+GMR print (default "mqttc-at <version>"). */
		version?: string;
	}

	/** Lines in, lines out: feed it the serial byte stream in pieces of any size. */
	export class AtEngine {
		constructor(options: AtEngineOptions);
		/** Bytes received from the serial line (any split; CR or CRLF ends a command). */
		input(chunk: ArrayBuffer | Uint8Array | string): void;
		/** Closes every MQTT client of the engine. */
		close(): void;
	}

	export const VERSION: string;
	export default AtEngine;
}
