/*
 * Typings of the AT command front end for app authors: `import {AtEngine} from "mqttc-at"`.
 * An app that includes mqttc's manifest_at.json gets them through mcconfig's tsconfig.
 */

declare module "mqttc-at" {
	/** One-shot timers for command timeouts: set(callback, ms) returns a handle for clear(). */
	export interface AtTimer {
		set(callback: () => void, ms: number): unknown;
		clear(handle: unknown): void;
	}

	/** Options of the engine. Every bound has a default; see docs/at.md, "Bounds". */
	export interface AtEngineOptions {
		/**
		 * Hands bytes to the serial line: responses, echo, prompts and unsolicited result
		 * codes. Returns how many bytes the transport took now (the rest stays queued in the
		 * engine; call `writable()` when the transport has room again), or nothing when it
		 * took them all.
		 */
		write(bytes: ArrayBuffer | string): number | void;
		/** Longest command line in bytes, terminator excluded (default 2048, minimum 64). */
		lineMax?: number;
		/** Largest AT+ECMTPUB data-mode payload in bytes (default 4096, minimum 16). */
		dataMax?: number;
		/** Bytes that may wait for the serial line (default 8192, minimum 2560); 2048 of
		 * them are kept for echo, answers and final results. */
		txMax?: number;
		/** Bytes of received messages held (unacknowledged) while the serial queue is full
		 * (default 32768; at most 40 messages, 8 of them QoS 0). */
		holdMax?: number;
		/** Receive buffer of each client (mqtt.create rxSize; default 4096). */
		rxSize?: number;
		/** Echo on at start (default true, like a modem after power-up). */
		echo?: boolean;
		/** The line ATI and AT+GMR print (default "mqttc-at <version>"). */
		version?: string;
		/** Timers for command timeouts (default: Moddable's Timer). */
		timer?: AtTimer;
	}

	/** Lines in, lines out: feed it the serial byte stream in pieces of any size. */
	export class AtEngine {
		constructor(options: AtEngineOptions);
		/** Bytes received from the serial line (any split; CR or CRLF ends a command). */
		input(chunk: ArrayBuffer | Uint8Array | string): void;
		/** The transport has room again: the engine writes what waits, then held messages. */
		writable(): void;
		/** Closes every MQTT client of the engine. */
		close(): void;
		/** Received messages that found no room (each also reported by a *DROPPED URC). */
		readonly messagesDropped: number;
		/** Echo bytes dropped because the serial queue was full. */
		readonly echoDropped: number;
		/** Result URCs and information lines dropped because the reserve was full. */
		readonly linesDropped: number;
	}

	export const VERSION: string;
	export default AtEngine;
}
