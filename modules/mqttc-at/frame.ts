/*
 * mqttc-at/frame: one unsolicited result code as the bytes of the serial line, framed as a
 * modem does in verbose mode: "\r\n" + text + "\r\n". Its parts may mix text and raw bytes
 * (a received payload goes out unescaped).
 */

/** One URC as bytes: "\r\n" + parts + "\r\n". */
export function frame(parts: (string | ArrayBuffer)[]): ArrayBuffer {
	let strings = true;
	for (const p of parts) if (typeof p !== "string") strings = false;
	if (strings) return ArrayBuffer.fromString("\r\n" + parts.join("") + "\r\n");
	const bufs: ArrayBuffer[] = [ArrayBuffer.fromString("\r\n")];
	let total = 4;
	for (const p of parts) {
		const b = typeof p === "string" ? ArrayBuffer.fromString(p) : p;
		bufs.push(b);
		total += b.byteLength;
	}
	bufs.push(ArrayBuffer.fromString("\r\n"));
	const all = new Uint8Array(total);
	let o = 0;
	for (const b of bufs) {
		all.set(new Uint8Array(b), o);
		o += b.byteLength;
	}
	return all.buffer;
}
