// Manifest names of the shared SDK-bench modules, typed from their sources.
declare module "cost-sdk/inbound" {
	export const publishPacket: typeof import("./inbound").publishPacket;
	export const fillAck: typeof import("./inbound").fillAck;
}
