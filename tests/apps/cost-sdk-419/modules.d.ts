// Manifest names of this app's modules, typed: the stand-ins from their source, and what the
// bench uses of the SDK's ECMA-419 MQTT client ($(MODDABLE)/examples/io/tcp/mqttclient/
// mqttclient.js, mapped to "mqttclient" at run time). @moddable/typings' declaration of it
// gives onControl two arguments; the client passes one message object.
declare module "cost-sdk/benchnetwork" {
	export const BenchTCP: typeof import("./benchnetwork").BenchTCP;
	export type BenchTCP = import("./benchnetwork").BenchTCP;
	export const BenchDNS: typeof import("./benchnetwork").BenchDNS;
}

declare module "cost-sdk/tcpcalls" {
	export const countTCP: typeof import("./tcpcalls").countTCP;
	export const tcpCalibrator: typeof import("./tcpcalls").tcpCalibrator;
}

declare module "mqttclient" {
	export interface ReadableOptions { more: boolean; topic?: string; QoS?: number; byteLength?: number }
	export interface ControlMessage { operation: number; id?: number; returnCode?: number }
	export interface WriteOptions { topic?: string; QoS?: number; id?: number; operation?: number; byteLength?: number }
	export default class MQTTClient {
		constructor(options: {
			host: string; port?: number; id?: string;
			dns: { io: new (options: object) => object };
			socket: { io: new (options: never) => object };
			onReadable?: (this: MQTTClient, count: number, options: ReadableOptions) => void;
			onControl?: (this: MQTTClient, message: ControlMessage) => void;
			onError?: (this: MQTTClient) => void;
		});
		read(count: number): ArrayBuffer;
		write(data: ArrayBuffer | ArrayBufferView | null, options?: WriteOptions): number;
		close(): void;
		static readonly CONNACK: 2;
		static readonly PUBACK: 4;
		static readonly PUBCOMP: 7;
	}
}
