/*
 * mqttc-at/mqttreply: how dialect B (mqttc-at/mqttset) answers a command. At once: OK, or
 * "+<CMD>:<code>" then ERROR. Or, for AT+MQTTCONNECT, AT+MQTTSUB, AT+MQTTUNSUB and AT+MQTTPUB
 * at QoS 1/2, once the broker has answered (MqttWait): the engine answers ERROR to other
 * lines meanwhile (busy), and after OP_TIMEOUT_MS without an answer the result is code 8.
 */

import type {AtIo} from "mqttc-at/types";

export const OP_NONE = 0;
export const OP_CONN = 1;
export const OP_SUB = 2;
export const OP_UNSUB = 3;
export const OP_PUB = 4;

/** How long a blocking command waits for the broker (CONNECT: mqttc conn_timeout, the same). */
export const OP_TIMEOUT_MS = 5000;
/** Its name, for the code 8 line of a timeout. */
const OP_NAMES = Object.freeze(["", "+MQTTCONNECT", "+MQTTSUB", "+MQTTUNSUB", "+MQTTPUB"]);

/** Answers "+<CMD>:<code>" and ERROR. */
export function fail(io: AtIo, name: string, code: number): true {
	io.line(name + ":" + code);
	io.line("ERROR");
	return true;
}

/** Answers `lines`, then OK. */
export function ok(io: AtIo, ...lines: string[]): true {
	for (const l of lines) io.line(l);
	io.line("OK");
	return true;
}

/** The one command waiting for the broker, if any (op OP_NONE: none). */
export class MqttWait {
	private readonly io: AtIo;
	op = OP_NONE;
	/** The id mqttc returned for it (-1 for CONNECT). */
	id = -1;
	/** Its topic (AT+MQTTSUB, AT+MQTTUNSUB). */
	topic = "";
	private timer: unknown = undefined;

	constructor(io: AtIo) {
		this.io = io;
	}

	begin(op: number, id: number, topic = ""): void {
		this.op = op;
		this.id = id;
		this.topic = topic;
		this.io.busy(true);
		// CONNECT has mqttc's conn_timeout (the same 5 s, reported through its disconnect event)
		if (op !== OP_CONN) this.timer = this.io.later(OP_TIMEOUT_MS, () => this.timedOut());
	}

	/** The answer came (or the wait is over): the engine takes commands again. */
	end(): void {
		this.op = OP_NONE;
		this.id = -1;
		this.io.cancel(this.timer);
		this.timer = undefined;
		this.io.busy(false);
	}

	/** The broker did not answer in time: code 8; the client stays connected. */
	private timedOut(): void {
		this.timer = undefined;
		const op = this.op;
		if (op === OP_NONE) return;
		this.end();
		fail(this.io, OP_NAMES[op], 8);
	}
}
