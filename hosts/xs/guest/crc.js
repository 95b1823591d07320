/*
 * crc — the SDK's modules/data/crc for the desktop XS host: CRC8 and CRC16 with crc.c's
 * arguments (polynomial, initial, reflectInput, reflectOutput, xorOutput). checksum(buffer)
 * goes on from the register the calls before it left (reset() starts over) and returns the
 * CRC so far, the output reflection and xor applied. The bytes are run in the parent
 * (hosts/xs/file.mjs), as the device runs them in C: no per-byte work is metered here.
 * CRC8 runs the same register over 8 bits (its polynomial shifted into the top byte).
 */
import {callFile, bytesOf} from "xs-host/bridge";

const F_CRC = 9;

function reflect(value, bits) {
	let result = 0;
	for (let i = 0; i < bits; i++)
		result |= ((value >> i) & 1) << (bits - 1 - i);
	return result;
}

class CRC {
	#bits; #polynomial; #reset; #register; #reflectInput; #reflectOutput; #xorOutput;
	constructor(bits, polynomial, initial = 0, reflectInput = 0, reflectOutput = 0, xorOutput = 0) {
		this.#bits = bits;
		this.#polynomial = bits === 8 ? (polynomial & 0xFF) << 8 : polynomial & 0xFFFF;
		this.#reset = bits === 8 ? (initial & 0xFF) << 8 : initial & 0xFFFF;
		this.#register = this.#reset;
		this.#reflectInput = !!reflectInput;
		this.#reflectOutput = !!reflectOutput;
		this.#xorOutput = xorOutput;
	}
	checksum(buffer) {
		const bytes = bytesOf(buffer);
		if (!bytes)
			throw new TypeError("invalid buffer");
		const call = new Uint8Array(6 + bytes.length);
		const view = new DataView(call.buffer);
		call[0] = F_CRC;
		view.setUint16(1, this.#polynomial, true);
		view.setUint16(3, this.#register, true);
		call[5] = this.#reflectInput ? 1 : 0;
		call.set(bytes, 6);
		const answer = callFile(call);
		this.#register = new DataView(answer.buffer, answer.byteOffset, 4).getInt32(0, true) & 0xFFFF;
		let crc = this.#bits === 8 ? this.#register >> 8 : this.#register;
		if (this.#reflectOutput)
			crc = reflect(crc, this.#bits);
		return (crc ^ this.#xorOutput) & (this.#bits === 8 ? 0xFF : 0xFFFF);
	}
	reset() {
		this.#register = this.#reset;
	}
	close() {
	}
}

export class CRC8 extends CRC {
	constructor(...args) {
		super(8, ...args);
	}
}
export class CRC16 extends CRC {
	constructor(...args) {
		super(16, ...args);
	}
}
export default CRC8;
