/*
 * The Xtensa host's `file` and `crc` (tests/xtensa-file.test.mjs): each result a
 * "name value" trace line the test compares. The files are in config.file.root, the run's
 * storage directory; the test made "records.log" there beforehand (rename replaces it).
 * After the first write it waits 500 ms ("durable"), while the test reads the file.
 */
import {File, Iterator, Directory} from "file";
import {CRC8, CRC16} from "crc";
import Timer from "timer";
import config from "mc/config";
import {instructions} from "xtensa";

const root = config.file.root;

function show(name, ...values) {
	trace(`${name} ${values.join(" ")}\n`);
}

function attempt(f) {
	try {
		return f();
	}
	catch (e) {
		return `${e.name}: ${e.message}`;
	}
}

function text(buffer) {
	return String.fromArrayBuffer(buffer);
}

function records() {
	const file = new File(root + "t.log", true);
	file.write(ArrayBuffer.fromString("rec1;"), "rec2;", 10);
	show("written", file.length, file.position);
	file.close();
	show("closed", attempt(() => file.length));
	show("durable");
}

function more() {
	let file = new File(root + "t.log", true);
	show("reopened", file.position, file.length);
	file.position = file.length;
	file.write("rec3;");
	file.position = 0;
	show("read-all", JSON.stringify(file.read(String)));
	file.position = 5;
	show("read-count", file.read(String, 5));
	show("read-buffer", new Uint8Array(file.read(ArrayBuffer, 2)).join(","));
	show("read-clamped", JSON.stringify(text(file.read(ArrayBuffer, 100))));
	show("read-past-end", attempt(() => file.read(ArrayBuffer)));
	show("typed-array", attempt(() => file.write(new Uint8Array(2))));
	file.position = -1;
	show("negative-position", file.position);
	file.close();

	file = new File(root + "t.log");
	show("read-only", attempt(() => file.write("x")), file.length);
	file.close();
	show("missing", attempt(() => new File(root + "missing.log")));
	show("exists", File.exists(root + "t.log"), File.exists(root + "missing.log"), File.exists(root));

	show("rename", File.rename(root + "t.log", "records.log"), File.exists(root + "t.log"));
	show("rename-missing", File.rename(root + "t.log", "other.log"));
	show("rename-invalid", attempt(() => File.rename(root + "records.log", "a/b")));

	file = new File(root + "gone.log", true);
	file.write("x");
	file.close();
	show("delete", File.delete(root + "gone.log"), File.delete(root + "gone.log"), File.exists(root + "gone.log"));

	show("outside-open", attempt(() => new File(root + "../outside.log", true)));
	show("outside-exists", attempt(() => File.exists("/etc/passwd")));
	show("outside-relative", attempt(() => File.delete("records.log")));
	show("outside-rename", attempt(() => File.rename(root + "records.log", root + "../moved.log")));

	Directory.create(root + "sub");
	Directory.create(root + "sub");
	const names = [];
	for (const entry of new Iterator(root))
		names.push(entry.name + (entry.length === undefined ? "/" : `:${entry.length}`));
	show("list", names.sort().join(" "));
	Directory.delete(root + "sub");
	show("directory-deleted", File.exists(root + "sub"));

	crc();
	measure();
	trace("file done\n");
}

function crc() {
	const ccitt = new CRC16(0x1021, 0xFFFF, false, false, 0);
	ccitt.checksum(ArrayBuffer.fromString("1234"));
	show("crc16-ccitt", ccitt.checksum(ArrayBuffer.fromString("56789")).toString(16));
	show("crc16-reset", typeof ccitt.reset(), ccitt.checksum(Uint8Array.from([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39])).toString(16));
	show("crc16-arc", new CRC16(0x8005, 0, true, true, 0).checksum(ArrayBuffer.fromString("123456789")).toString(16));
	show("crc16-x25", new CRC16(0x1021, 0xFFFF, true, true, 0xFFFF).checksum(ArrayBuffer.fromString("123456789")).toString(16));
	const smbus = new CRC8(0x07);
	show("crc8-smbus", smbus.checksum(ArrayBuffer.fromString("123456789")).toString(16), smbus.reset() === smbus);
	show("crc8-maxim", new CRC8(0x31, 0, true, true).checksum(ArrayBuffer.fromString("123456789")).toString(16));
	show("crc-string", attempt(() => ccitt.checksum("123")));
	ccitt.close();
	show("crc-closed", attempt(() => ccitt.checksum(new ArrayBuffer(1))));
}

/* Guest instructions, less those of the instructions() calls themselves. */
function measure() {
	const kb = new Uint8Array(1024);
	for (let i = 0; i < kb.length; i++)
		kb[i] = i & 0xFF;
	const crc = new CRC16(0x1021, 0xFFFF, false, false, 0);
	let start = instructions();
	const base = instructions() - start;
	start = instructions();
	const sum = crc.checksum(kb.buffer);
	show("crc16-1k-instructions", instructions() - start - base, sum.toString(16));
	const file = new File(root + "kb.bin", true);
	start = instructions();
	file.write(kb.buffer);
	file.close();
	show("file-1k-instructions", instructions() - start - base);
}

export default function main() {
	show("root", root);
	records();
	Timer.set(more, 500);
}
