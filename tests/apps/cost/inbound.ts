/*
 * The cost benches' "broker" side, for mqttc's bench app and the SDK clients' (manifest name
 * "bench/inbound"): the PUBLISH it sends (built once before a measured turn), its
 * acknowledgements, and the delivery of a packet in pieces.
 */

/** A PUBLISH: topic, packet id 1 when QoS > 0, `size` bytes of "x" (valid text). */
export function publishPacket(topic: string, size: number, qos: number): Uint8Array<ArrayBuffer> {
	const topicBytes = new Uint8Array(ArrayBuffer.fromString(topic));
	const remaining = 2 + topicBytes.length + (qos ? 2 : 0) + size;
	const header = [0x30 | (qos << 1)];
	for (let value = remaining; ;) {
		const digit = value & 0x7F;
		value >>>= 7;
		header.push(value ? digit | 0x80 : digit);
		if (!value)
			break;
	}
	const packet = new Uint8Array(header.length + remaining);
	packet.set(header, 0);
	let at = header.length;
	packet[at++] = topicBytes.length >> 8;
	packet[at++] = topicBytes.length & 0xFF;
	packet.set(topicBytes, at);
	at += topicBytes.length;
	if (qos) {
		packet[at++] = 0;
		packet[at++] = 1;
	}
	packet.fill(0x78, at);
	return packet;
}

/** A 4-byte acknowledgement (PUBACK 0x40, PUBREC 0x50, PUBCOMP 0x70) written into `ack`. */
export function fillAck(ack: Uint8Array<ArrayBuffer>, type: number, id: number): Uint8Array<ArrayBuffer> {
	ack[0] = type;
	ack[1] = 2;
	ack[2] = (id >> 8) & 0xFF;
	ack[3] = id & 0xFF;
	return ack;
}

/**
 * `packet` arrives n times, each in pieces of `piece` bytes (0: whole), one delivery per piece;
 * `afterEach` runs after every piece (the bench's queued timers, as an event loop would).
 */
export function deliverPieces(socket: { deliver(bytes: Uint8Array, start: number, end: number): void },
	packet: Uint8Array, n: number, piece: number, afterEach: () => unknown): void {
	const length = packet.length;
	const step = piece > 0 ? piece : length;
	for (let i = 0; i < n; i++) {
		for (let at = 0; at < length; at += step) {
			socket.deliver(packet, at, Math.min(length, at + step));
			afterEach();
		}
	}
}
