/*
 * mqttc-at/ecmtacks: what dialect A (mqttc-at/ecmt) awaits from the broker for AT+ECMTPUB,
 * AT+ECMTSUB and AT+ECMTUNS, and the URCs that answer them:
 *   +ECMTPUB: 0,<msgID>,0                  QoS 0 handed to the socket / PUBACK / PUBCOMP
 *   +ECMTSUB: 0,<msgID>,0,<granted>[,...]  SUBACK, one code per topic (128 = refused)
 *   +ECMTUNS: 0,<msgID>,0                  UNSUBACK
 *   +ECMT{PUB,SUB,UNS}: 0,<msgID>,2        nothing within the "timeout" packet time, or the
 *                                          connection went away
 * All wait the same time, so the oldest is always the first to expire: one timer does.
 */

import type {AtIo} from "mqttc-at/types";

export const OP_PUB = 0;
export const OP_SUB = 1;
export const OP_UNS = 2;

/** Commands awaiting their acknowledgement at most; more are refused with ERROR. */
const PENDING_MAX = 16;

interface Pending {
	op: number;
	/** The id mqttc returned. */
	id: number;
	/** The msgID the host gave. */
	at: number;
	/** Date.now() after which the result is "failed" (2). */
	deadline: number;
	topics?: string[];
}

function opName(op: number): string {
	return op === OP_PUB ? "+ECMTPUB: 0," : op === OP_SUB ? "+ECMTSUB: 0," : "+ECMTUNS: 0,";
}

export class EcmtAcks {
	private readonly io: AtIo;
	private pending: Pending[] = [];
	private timer: unknown = undefined;

	constructor(io: AtIo) {
		this.io = io;
	}

	/** Whether no further command may wait. */
	get full(): boolean {
		return this.pending.length >= PENDING_MAX;
	}

	/** Awaits the acknowledgement of mqttc's `id` for at most `seconds` (the "timeout" packet time). */
	track(op: number, id: number, at: number, seconds: number, topics?: string[]): void {
		this.pending.push({op, id, at, deadline: Date.now() + seconds * 1000, topics});
		if (this.timer === undefined) this.timer = this.io.later(seconds * 1000, () => this.expire());
	}

	/** The acknowledgement of mqttc's `id` came: "<op>: 0,<msgID>,<result>". */
	resolve(op: number, id: any, result: string): void {
		const i = this.find(op, typeof id === "number" ? id : -1);
		if (i < 0) return;
		const p = this.pending[i];
		this.pending.splice(i, 1);
		this.io.urc([opName(op) + p.at + "," + result]);
	}

	/** A SUBACK (mqttc's suback event): the code granted to each topic, in the command's order. */
	suback(payload: any, metas: any): void {
		const id = metas && typeof metas.message_id === "number" ? metas.message_id : -1;
		const i = this.find(OP_SUB, id);
		if (i < 0) return;
		const p = this.pending[i];
		this.pending.splice(i, 1);
		const codes: number[] = [];
		const topics: string[] | undefined = metas.topics, got: number[] | undefined = metas.codes;
		for (const t of p.topics!) {
			let code = typeof payload === "number" ? payload : 0x80;
			if (topics && got) {
				const k = topics.indexOf(t);
				if (k >= 0 && typeof got[k] === "number") code = got[k];
			}
			codes.push(code);
		}
		this.io.urc(["+ECMTSUB: 0," + p.at + ",0," + codes.join(",")]);
	}

	/** The connection went away: everything awaited has failed (2). */
	failAll(): void {
		const list = this.pending;
		this.pending = [];
		this.io.cancel(this.timer);
		this.timer = undefined;
		for (const p of list) this.io.urc([opName(p.op) + p.at + ",2"]);
	}

	/** Forgets everything awaited, without a word (the engine closes). */
	clear(): void {
		this.pending = [];
		this.io.cancel(this.timer);
		this.timer = undefined;
	}

	/** Fails what waited too long; all share one timeout, so the oldest is first. */
	private expire(): void {
		this.timer = undefined;
		const now = Date.now() + 5; // timers may fire a little early
		const list = this.pending;
		while (list.length && list[0].deadline <= now) {
			const p = list.shift()!;
			this.io.urc([opName(p.op) + p.at + ",2"]);
		}
		if (list.length) this.timer = this.io.later(list[0].deadline - now + 5, () => this.expire());
	}

	private find(op: number, id: number): number {
		const list = this.pending;
		for (let i = 0; i < list.length; i++) if (list[i].op === op && list[i].id === id) return i;
		return -1;
	}
}
