/*
 * WebSocket frame rules (RFC 6455 section 5) for mqttc/wssocket: the header of a frame the
 * client sends (always masked), and what a server's frame header must not be.
 */

/** The header of a masked frame: `first` (FIN and opcode), its payload length, the key. */
export function frameHeader(first: number, length: number, key: Uint8Array): (ArrayBuffer | ArrayBufferView | number)[] {
	const header: (ArrayBuffer | ArrayBufferView | number)[] = length < 126 ? [first, 0x80 | length]
		: length < 65536 ? [first, 0x80 | 126, length >> 8, length & 0xFF]
		: [first, 0x80 | 127, 0, 0, 0, 0, length >>> 24, (length >> 16) & 0xFF, (length >> 8) & 0xFF, length & 0xFF];
	header.push(key[0], key[1], key[2], key[3]);
	return header;
}

/** Why a server frame with this first byte and payload length is refused (a data message
 * is `fragmented` when its last frame had no FIN), or undefined. MQTT takes binary frames. */
export function frameFault(first: number, length: number, fragmented: boolean): string | undefined {
	const fin = first & 0x80, opcode = first & 0x0F;
	if (first & 0x70) return "reserved bits set";
	if (opcode === 1) return "a text frame (MQTT takes binary frames)";
	if (opcode >= 8) {
		if (opcode > 10) return `unknown opcode ${opcode}`;
		return !fin || length > 125 ? "a fragmented or long control frame" : undefined;
	}
	if (opcode > 2) return `unknown opcode ${opcode}`;
	if (opcode === 0 && !fragmented) return "a continuation frame without a message";
	if (opcode === 2 && fragmented) return "a new message inside a fragmented one";
	return undefined;
}
