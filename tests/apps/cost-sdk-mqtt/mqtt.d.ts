// What the cost bench uses of the SDK's mqtt.js ($(MODDABLE)/modules/network/mqtt/mqtt.js,
// mapped to "mqtt" by this app's manifest at run time; the SDK ships no typings for it).
declare module "mqtt" {
	export default class Client {
		constructor(dictionary: { host: string; port?: number; id?: string; timeout?: number });
		publish(topic: string | ArrayBuffer, data: string | ArrayBuffer, flags?: { quality?: number; retain?: boolean }): void;
		close(immediate?: boolean): void;
		onReady?: () => void;
		onMessage?: (topic: string, payload: ArrayBuffer) => void;
		onClose?: () => void;
	}
}
