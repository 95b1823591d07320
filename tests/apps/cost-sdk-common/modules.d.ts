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
	export const counts: typeof import("./bench").counts;
}

// The counting and calibration of the calls into the stand-ins (tests/apps/cost/calls.ts,
// socketcalls.ts, timercalls.ts), shared by the three cost apps.
declare module "bench/calls" {
	export type Calibrator = import("../cost/calls").Calibrator;
	export const count: typeof import("../cost/calls").count;
	export const countCalls: typeof import("../cost/calls").countCalls;
	export const countSets: typeof import("../cost/calls").countSets;
	export const byArity: typeof import("../cost/calls").byArity;
	export const callWith: typeof import("../cost/calls").callWith;
	export const nativeNothing: typeof import("../cost/calls").nativeNothing;
	export const someArgs: typeof import("../cost/calls").someArgs;
	export const plainCall: typeof import("../cost/calls").plainCall;
	export const calibration: typeof import("../cost/calls").calibration;
	export const counting: typeof import("../cost/calls").counting;
	export const countConversions: typeof import("../cost/calls").countConversions;
	export const conversionCalibrator: typeof import("../cost/calls").conversionCalibrator;
}

declare module "bench/socketcalls" {
	export const countSocket: typeof import("../cost/socketcalls").countSocket;
	export const socketCalibrator: typeof import("../cost/socketcalls").socketCalibrator;
}

declare module "cost-sdk/timercalls" {
	export const countQueuedTimer: typeof import("./timercalls").countQueuedTimer;
	export const queuedTimerCalibrator: typeof import("./timercalls").queuedTimerCalibrator;
}

declare module "bench/timercalls" {
	export const countTimer: typeof import("../cost/timercalls").countTimer;
	export const timerCalibrator: typeof import("../cost/timercalls").timerCalibrator;
}
