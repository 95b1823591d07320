/*
 * mqttc-at: an AT command front end for mqttc, so that a device running mqttc answers
 * the MQTT AT command sets of cellular and Wi-Fi modems over a serial line.
 *
 *   import {AtEngine} from "mqttc-at";
 *   const at = new AtEngine({write: (bytes) => serial.write(bytes)});
 *   serial.onReadable = () => at.input(serial.read());
 *
 * This entry module only adds the default client factory (mqtt.create); the engine
 * itself lives in mqttc-at/engine and does not import mqttc, so it can be driven by any
 * object with the client API (the unit tests do that).
 */

import mqtt from "mqttc";
import {AtEngine as Engine, VERSION} from "mqttc-at/engine";
import type {AtClient, AtCreate, AtEngineOptions} from "mqttc-at/types";

export type {AtClient, AtCreate, AtEngineOptions};
export {VERSION};

/** Makes a client with mqtt.create for the engine. */
export function createClient(...[host, port, ssl, opts]: Parameters<AtCreate>): AtClient | null {
	return mqtt.create(undefined, host, port, ssl, opts) as AtClient | null;
}

export class AtEngine extends Engine {
	constructor(options: AtEngineOptions) {
		super({...options, create: options.create ?? createClient});
	}
}

export default AtEngine;
