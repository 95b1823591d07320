/*
 * The SDK mqtt.js cost bench's stand-in for Moddable's `websocket`: mqtt.js imports it, and
 * uses it only when given a `path`, which the bench never does.
 */
export class Client {
	constructor(_dictionary: object) {
		throw new Error("the cost bench drives mqtt.js over a plain socket, not a WebSocket");
	}
}
