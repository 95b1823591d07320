/*
 * mqttc: an MQTT 3.1.1 client for Moddable XS with the LuatOS `mqtt` API.
 *
 *   import mqtt from "mqttc";
 *   const client = mqtt.create(null, "broker.local", 1883);
 *
 * The default export is frozen and holds no state, so the module can be preloaded.
 */

import {
	MqttClient, STATE_DISCONNECT, STATE_SCONNECT, STATE_MQTT, STATE_READY,
} from "mqttc/client";

/**
 * A client for `host:port`, or null when an argument is invalid (the reason is traced).
 * `adapter` is accepted for LuatOS compatibility and ignored: a Moddable device has one
 * network interface.
 */
function create(adapter: unknown, host: unknown, port: unknown, ssl?: unknown, opts?: unknown): MqttClient | null {
	void adapter;
	const client = MqttClient.create(host, port, ssl, opts);
	if (typeof client === "string") {
		trace(`mqttc: create: ${client}\n`);
		return null;
	}
	return client;
}

const mqtt = Object.freeze({
	create,
	STATE_DISCONNECT,
	STATE_SCONNECT,
	STATE_MQTT,
	STATE_READY,
});

export default mqtt;
export type { MqttClient };
