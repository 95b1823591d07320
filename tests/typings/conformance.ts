/*
 * The sources conform to the typings: modules/mqttc.ts (imported here as "mqttc-impl")
 * must be assignable to what typings/mqttc.d.ts declares, expose the same client methods,
 * and agree on every option and metadata field. Type-checked by tests/typings.test.mjs.
 */
import type declared from "mqttc";
import type * as Api from "mqttc";
import impl from "mqttc-impl";
import type * as Types from "mqttc/types";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assert<T extends true>(): T | undefined { return undefined; }

type ImplClient = NonNullable<ReturnType<typeof impl.create>>;

// The default export: the same keys; create() takes what the typings allow and returns a
// client; the state constants have the declared values.
assert<Equal<keyof typeof impl, keyof typeof declared>>();
export const create: (...args: Parameters<typeof declared.create>) => Client | null = impl.create;
assert<Equal<typeof impl.STATE_DISCONNECT, typeof declared.STATE_DISCONNECT>>();
assert<Equal<typeof impl.STATE_SCONNECT, typeof declared.STATE_SCONNECT>>();
assert<Equal<typeof impl.STATE_MQTT, typeof declared.STATE_MQTT>>();
assert<Equal<typeof impl.STATE_READY, typeof declared.STATE_READY>>();

// The client: the same public methods, each usable as declared. `on` is left out: the source takes a loose callback (client: any,
// event, data?: any, ...), which accepts every callback the typings allow; the event
// arguments are checked against what the client emits by the test itself and at run time
// by tests/client.test.mjs.
type Client = Omit<Api.MqttClient, "on">;
assert<Equal<keyof ImplClient, keyof Api.MqttClient>>();
export function asDeclaredClient(client: ImplClient): Client {
	return client;
}
export function acceptsDeclaredCallbacks(client: ImplClient): void {
	client.on((c, event, data, payload, metas) => void [c, event, data, payload, metas]);
	client.on((c, event) => void [c, event]);
}

// Options, metas and event names: the same fields, the same value types.
assert<Equal<keyof Types.CreateOptions, keyof Api.CreateOptions>>();
assert<Equal<Required<Types.CreateOptions>, Required<Api.CreateOptions>>>();
assert<Equal<keyof Types.SslOptions, keyof Api.SslOptions>>();
assert<Equal<Types.RecvMetas["qos"], Api.RecvMetas["qos"]>>();
assert<Equal<keyof Types.RecvMetas, keyof Api.RecvMetas>>();
assert<Equal<Types.SubackMetas, Api.SubackMetas>>();
assert<Equal<Types.SentMetas, Api.SentMetas>>();
assert<Equal<Types.MqttEvent, Api.MqttEvent>>();
assert<Equal<Types.ErrorKind, Api.ErrorKind>>();
assert<Equal<Types.MqttEvent, Api.EventArguments[1]>>();
assert<Equal<Types.Payload, Api.Payload>>();
