/*
 * mqttc-at: an AT command front end for mqttc, so that a device running mqttc answers
 * the MQTT AT command sets of cellular and Wi-Fi modems over a serial line.
 *
 *   import {AtEngine} from "mqttc-at";
 *   const at = new AtEngine({write: (bytes) => uart.write(bytes)});  // returns bytes taken
 *   uart.onReadable = () => at.input(uart.read());
 *   uart.onWritable = () => at.writable();
 *
 * This entry module only adds the defaults that need Moddable modules: the client factory
 * (mqtt.create) and the timers of command timeouts (Moddable's Timer); the engine
 * itself lives in mqttc-at/engine and does not import mqttc, so it can be driven by any
 * object with the client API (the unit tests do that).
 */

import mqtt from "mqttc";
// The engine's clients defer their acknowledgements (manual_ack) and open TCP before CONNECT
// (open(), AT+ECMTOPEN): mqttc's feature modules for them come with the engine
// (manifest_at.json includes manifest_acks.json and manifest_open.json; in an npm app these
// imports are what bring them).
import "mqttc/acks";
import "mqttc/open";
import Timer from "timer";
import {AtEngine as Engine, VERSION} from "mqttc-at/engine";
import type {AtClient, AtCreate, AtEngineOptions, AtTimer} from "mqttc-at/types";

export type {AtClient, AtCreate, AtEngineOptions, AtTimer};
export {VERSION};

/** Makes a client with mqtt.create for the engine. */
export function createClient(...[host, port, ssl, opts]: Parameters<AtCreate>): AtClient | null {
	return mqtt.create(undefined, host, port, ssl, opts) as AtClient | null;
}

/** One-shot timers on Moddable's Timer. */
const moddableTimer: AtTimer = Object.freeze({
	set: (callback: () => void, ms: number): unknown => Timer.set(callback, ms),
	clear: (handle: unknown): void => Timer.clear(handle as Timer),
});

export class AtEngine extends Engine {
	constructor(options: AtEngineOptions) {
		super({...options, create: options.create ?? createClient, timer: options.timer ?? moddableTimer});
	}
}

export default AtEngine;
