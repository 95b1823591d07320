// An AT modem app against typings/mqttc-at.d.ts: the serial line as a write callback and input().
import { AtEngine, VERSION } from "mqttc-at";

const sent: (ArrayBuffer | string)[] = [];
const engine = new AtEngine({
	write(bytes) { sent.push(bytes); return typeof bytes === "string" ? bytes.length : bytes.byteLength; },
	lineMax: 1024,
	dataMax: 2048,
	txMax: 4096,
	holdMax: 16384,
	timer: { set: (callback, ms) => { void callback; return ms; }, clear() {} },
	rxSize: 4096,
	echo: false,
	version: `modem ${VERSION}`,
});
engine.input("AT\r\n");
engine.input(new Uint8Array([0x41, 0x54, 0x0D]));
engine.input(ArrayBuffer.fromString("ATI\r\n"));
engine.writable();
const lost: number = engine.messagesDropped + engine.echoDropped + engine.linesDropped;
void lost;
engine.close();
