// Manifest names of the shared bench modules, typed from their sources.
declare module "bench/inbound" {
	export const publishPacket: typeof import("../cost/inbound").publishPacket;
	export const fillAck: typeof import("../cost/inbound").fillAck;
	export const deliverPieces: typeof import("../cost/inbound").deliverPieces;
}

declare module "cost-sdk/bench" {
	export const Timer: typeof import("./bench").Timer;
	export const bench: typeof import("./bench").bench;
	export type DeliveringSocket = import("./bench").DeliveringSocket;
	export const collect: typeof import("./bench").collect;
	export const prepareInbound: typeof import("./bench").prepareInbound;
	export const receive: typeof import("./bench").receive;
	export const timerOverhead: typeof import("./bench").timerOverhead;
	export const counts: typeof import("./bench").counts;
}
