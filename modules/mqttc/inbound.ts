/*
 * What each packet from the broker does: the decoder's sink. CONNACK resumes or restarts the
 * session, acknowledgements settle the outbox (`sent`), a PUBLISH becomes `recv` and is
 * acknowledged after the app has it (QoS 2 exactly once through the session's window),
 * SUBACK/UNSUBACK settle requests, PINGRESP ends a ping. Anything else ends the link.
 *
 * Packet types: 2 CONNACK, 3 PUBLISH, 4 PUBACK, 5 PUBREC, 6 PUBREL, 7 PUBCOMP, 9 SUBACK,
 * 11 UNSUBACK, 13 PINGRESP. Outbox states: 1 SENT, 2 RELEASED.
 */

import { PACKET_NAMES, encodeSubscribe } from "mqttc/packet";
import type { DecoderSink, Packet, PublishPacket } from "mqttc/packet";
import type { PendingRequest, Session } from "mqttc/session";
import type { EventQueue } from "mqttc/events";
import type { Link } from "mqttc/link";
import { topicFilterBytes } from "mqttc/fields";
import { textOf } from "mqttc/utf8";
import type { DeferredAcks, RecvMetas, SentMetas, SubackMetas } from "mqttc/types";

/** Received QoS 2 ids remembered between PUBREC and PUBREL (README: the exactly-once window). */
export const QOS2_WINDOW = 64;

export class Inbound implements DecoderSink {
	declare link: Link;
	declare session: Session;
	declare events: EventQueue;
	/** manual_ack (mqttc/acks): messages delivered on this connection awaiting ack(). */
	declare acks: DeferredAcks | undefined;
	declare binary: boolean;
	declare chunked: boolean;              // oversize "chunk": deliver a PUBLISH larger than rxSize in pieces
	declare qos2Overflow: boolean;         // reported once: the QoS 2 window overflowed

	constructor(link: Link, acks: DeferredAcks | undefined, binary: boolean, chunked: boolean) {
		this.link = link;
		this.session = link.session;
		this.events = link.events;
		this.acks = acks;
		this.binary = binary;
		this.chunked = chunked;
		this.qos2Overflow = false;
	}

	/** A protocol violation in what the broker sent. */
	protocolFault(reason: string): void {
		this.link.lost("protocol", "other", reason);
	}

	packetReceived(packet: Packet): void {
		const link = this.link;
		if (link.status !== 3) {
			if (packet.type !== 2) return link.lost("protocol", "other", `${PACKET_NAMES[packet.type]} before CONNACK`);
			return this.connack(packet.sessionPresent, packet.code);
		}
		if (packet.type === 9) {                 // SUBACK
			const request = this.settle(packet.id, true);
			if (!request) return;
			const codes = packet.codes;
			if (codes.length !== request.topics.length) return link.lost("protocol", "other", `SUBACK with ${codes.length} codes for ${request.topics.length} topics`);
			for (let i = 0; i < codes.length; i++) if (codes[i] === 0x80) this.session.subscriptions.delete(request.topics[i]);
			const metas: SubackMetas = { message_id: packet.id, topics: request.topics, codes };
			return link.emit("suback", codes.indexOf(0x80) < 0, codes[0], metas);
		}
		if (packet.type === 13) {                // PINGRESP
			link.ping = -1;
			return link.emit("pong");
		}
		link.lost("protocol", "other", `unexpected ${PACKET_NAMES[packet.type]} from the broker`);
	}

	/** PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK. */
	ackReceived(type: number, id: number): void {
		const link = this.link;
		if (link.status !== 3) return link.lost("protocol", "other", `${PACKET_NAMES[type]} before CONNACK`);
		if (type === 4 || type === 7) {
			// The message is delivered (PUBACK for a QoS 1 one SENT, PUBCOMP for a RELEASED one):
			// the common case first, at the cost of one map lookup.
			const outbox = this.session.outbox;
			const entry = outbox.byId.get(id);
			if (entry !== undefined && entry.state === (type === 4 ? 1 : 2) && (type === 4) === ((entry.first & 0x06) === 0x02)) {
				outbox.remove(entry);
				this.events.emit("sent", id);
				if (outbox.queued !== 0) link.pump();
				if (link.leaving) link.linger.goodbye();
				return;
			}
		}
		if (type === 6) {                        // PUBREL
			this.session.releaseQos2(id);
			link.writer?.ack(7, id);
		}
		else if (type === 11) {                  // UNSUBACK
			if (this.settle(id, false)) link.emit("unsuback", id);
		}
		else this.acknowledged(type, id);
	}

	/** Takes the request a SUBACK/UNSUBACK answers out of the pending list; a reply to
	 * nothing is a protocol violation. */
	private settle(id: number, subscribe: boolean): PendingRequest | undefined {
		const request = this.session.settle(id, subscribe);
		if (!request) this.link.lost("protocol", "other", `${subscribe ? "SUBACK" : "UNSUBACK"} for unknown id ${id}`);
		return request;
	}

	private connack(sessionPresent: boolean, code: number): void {
		const link = this.link;
		if (code !== 0) {
			link.clearTimer("connTimer");
			link.emit("error", "conack", code);
			return link.lost("refused");
		}
		link.established();
		const session = this.session;
		const resume = sessionPresent && !link.hello.cleanSession;
		if (!resume) session.forgetReceived();
		// What the broker still expects from us goes first, in its original order. PUBREL is
		// sent again even without the broker's session, as libmosquitto does: a broker answers
		// any PUBREL with PUBCOMP, which settles the message (`sent`).
		for (const entry of session.outbox.reconnected(resume)) {
			if (entry.state === 1) link.writer?.entry(entry);
			else link.writer?.ack(6, entry.id);
		}
		if (resume) for (const request of session.pending.values()) link.writer?.packet(request.packet);
		else this.restoreSubscriptions();
		link.pump();
		link.emit("conack");
	}

	/** Without the broker's session, subscribe again to everything the app subscribed to,
	 * 8 topics per SUBSCRIBE. */
	private restoreSubscriptions(): void {
		const session = this.session;
		session.pending.clear();
		const topics = Array.from(session.subscriptions.keys());
		for (let at = 0; at < topics.length; at += 8) {
			const batch = topics.slice(at, at + 8);
			const id = session.allocateId();
			this.request(id, true, batch, encodeSubscribe(id, batch.map((t) => topicFilterBytes(t) as Uint8Array), batch.map((t) => session.subscriptions.get(t)!)));
		}
	}

	/** A SUBSCRIBE or UNSUBSCRIBE awaiting its answer (kept to be sent again on a resumed
	 * session), to the socket: its id, or null when the socket failed. */
	request(id: number, subscribe: boolean, topics: string[], packet: Uint8Array): number | null {
		this.session.pending.set(id, { id, subscribe, topics, packet });
		return this.link.writer?.packet(packet) ? id : null;
	}

	/**
	 * PUBREC, and a PUBACK or PUBCOMP that ackReceived() did not settle. A PUBACK or PUBCOMP
	 * that settles nothing (an id never used, or already settled: brokers send such acks
	 * after restoring a session) is ignored, as libmosquitto does: closing the connection
	 * would cost a reconnect per stray ack, a loop with a broker that repeats it. A PUBREC
	 * for an unknown id is answered with PUBREL, so that the broker can finish its flow.
	 */
	private acknowledged(type: number, id: number): void {
		const link = this.link;
		const outbox = this.session.outbox;
		const entry = outbox.byId.get(id);
		const qos = entry === undefined ? 0 : (entry.first >> 1) & 3;
		if (type !== 5) {
			if (qos !== 2 || type !== 4 || entry!.state !== 1) return link.note(`  ${PACKET_NAMES[type]} id=${id} settles nothing: ignored`);
			// Brokers without QoS 2 (RabbitMQ) answer its PUBLISH with PUBACK: the broker has the
			// message at QoS 1. Settled once as a downgrade, never resent in a loop.
			link.note(`  QoS 2 id=${id} acknowledged at QoS 1 (broker without QoS 2)`);
			outbox.remove(entry!);
			link.emit("sent", id, undefined, { message_id: id, qos: 1, downgraded: true } satisfies SentMetas);
			link.pump();
			if (link.leaving) link.linger.goodbye();
			return;
		}
		if (entry === undefined || entry.state === 2) {
			// A PUBREC repeated for a message already released is answered again [MQTT-4.3.3];
			// one for an id we do not know is answered too (nothing of ours is settled by it).
			if (entry === undefined) link.note(`  PUBREC id=${id} for an unknown id: answered with PUBREL`);
			return link.writer?.ack(6, id);
		}
		// A PUBREC for a QoS 1 message in flight, or for one not yet sent: the broker and we
		// disagree about a message we hold, and no answer can be right.
		if (entry.state !== 1 || qos !== 2) return link.lost("protocol", "other", "PUBREC for a message in another state");
		outbox.release(entry);
		link.writer?.ack(6, id);
	}

	/** A whole PUBLISH, its payload text or bytes already (see Decoder). */
	publishReceived(first: number, topic: string, id: number, payload: string | ArrayBuffer): void {
		if (this.link.status !== 3) return this.link.lost("protocol", "other", "PUBLISH before CONNACK");
		const qos = (first >> 1) & 3;
		if (qos === 0) {
			this.events.emit("recv", topic, payload, { message_id: 0, qos: 0, retain: first & 1, dup: (first >> 3) & 1 });
			return;
		}
		const acks = this.acks;
		if ((qos === 2 && this.duplicateQos2(id)) || (acks !== undefined && acks.awaits(qos, id))) return;
		const deferred = acks !== undefined && this.deferAck(acks, qos, id);
		this.events.emit("recv", topic, payload, { message_id: id, qos, retain: first & 1, dup: (first >> 3) & 1 });
		if (deferred) return;
		if (qos === 1) this.link.writer?.ack(4, id);     // PUBACK, after the app has the message
		else this.acknowledge(2, id);
	}

	/** manual_ack: true when the app acknowledges this message with ack(); within the bound only. */
	private deferAck(acks: DeferredAcks, qos: number, id: number): boolean {
		if (qos === 0) return false;
		if (acks.defer(qos, id)) return true;
		this.link.emit("error", "other", `more than ${acks.limit} messages await ack(): acknowledged at once`, { message_id: id });
		return false;
	}

	/** A piece of a PUBLISH larger than rxSize. */
	partReceived(packet: PublishPacket, chunk: Uint8Array, offset: number): void {
		const acks = this.acks;
		const chunked = this.chunked && packet.topic !== undefined;
		if (offset === 0) {
			if ((packet.qos === 2 && this.duplicateQos2(packet.id)) || (acks !== undefined && acks.awaits(packet.qos, packet.id))) {
				packet.id = -packet.id;           // mark the parts still to come: deliver and acknowledge nothing
				return;
			}
			if (!chunked) {
				const why = packet.topic === undefined ? "topic longer than rxSize" : "skipped (oversize: \"skip\")";
				this.link.emit("error", "other", `message of ${packet.total} bytes on ${packet.topic ?? "?"} larger than rxSize ${this.link.decoder!.buffer.length}: ${why}`, { topic: packet.topic, total: packet.total, message_id: packet.id });
			}
		}
		if (packet.id < 0) return;
		const last = offset + chunk.length === packet.total;
		let deferred = false;
		if (chunked) {
			const metas: RecvMetas = { message_id: packet.id, qos: packet.qos as RecvMetas["qos"], retain: packet.retain ? 1 : 0, dup: packet.dup ? 1 : 0, offset, total: packet.total };
			deferred = last && acks !== undefined && this.deferAck(acks, packet.qos, packet.id);
			// A chunk as text when it is text, else as bytes.
			const text = this.binary ? undefined : textOf(chunk, 0, chunk.length);
			this.link.emit("recv", packet.topic, text ?? (chunk.buffer as ArrayBuffer).slice(chunk.byteOffset, chunk.byteOffset + chunk.length), metas);
		}
		if (last && !deferred) this.acknowledge(packet.qos, packet.id);
	}

	/** QoS 2 exactly once: a PUBLISH whose id awaits PUBREL was delivered already; answer it again. */
	private duplicateQos2(id: number): boolean {
		if (!this.session.hasQos2(id)) return false;
		this.link.note(`  duplicate QoS 2 id=${id}: not delivered again`);
		this.link.writer?.ack(5, id);
		return true;
	}

	/** resend off (LuatOS behaviour), the link lost: unacknowledged messages are reported, not kept. */
	abandon(): void {
		for (const entry of this.session.outbox.clear()) {
			// A QoS 2 message the broker acknowledged with PUBREC (RELEASED) is delivered, as LuatOS counts it.
			if (entry.state === 2) this.link.emit("sent", entry.id);
			else this.link.emit("error", "tx", "message lost: connection closed before it was acknowledged", { message_id: entry.id });
		}
	}

	/** After the app has the whole message: PUBACK (QoS 1), or PUBREC (QoS 2) and remember
	 * its id until PUBREL, within a bounded window. */
	acknowledge(qos: number, id: number): void {
		if (qos === 1) return this.link.writer?.ack(4, id);
		if (qos !== 2) return;
		if (!this.session.rememberQos2(id) && !this.qos2Overflow) {
			this.qos2Overflow = true;
			this.link.emit("error", "other", `more than ${QOS2_WINDOW} QoS 2 messages awaiting PUBREL: duplicates can no longer be detected`);
		}
		this.link.writer?.ack(5, id);
	}
}
