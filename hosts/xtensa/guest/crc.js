/*
 * crc — the Moddable SDK's CRC8 and CRC16 on the Xtensa host: the classes and methods are
 * the C host functions (platform/crc.c), so checksum() runs natively over the buffer.
 */
const host = globalThis.xtensaHost;

const method = value => ({value, writable: true, configurable: true});

export const CRC16 = host.CRC16;
Object.defineProperties(CRC16.prototype, {
	checksum: method(host.crc16Checksum),
	reset: method(host.crc16Reset),
	close: method(host.crcClose),
});

export const CRC8 = host.CRC8;
Object.defineProperties(CRC8.prototype, {
	checksum: method(host.crc8Checksum),
	reset: method(host.crc8Reset),
	close: method(host.crcClose),
});

for (const item of [CRC8, CRC8.prototype, CRC16, CRC16.prototype])
	Object.freeze(item);

export {CRC8 as default};
