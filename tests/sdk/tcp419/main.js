/*
 * The ECMA-419 TCP socket (embedded:io/socket/tcp) in scenarios against the driver of
 * tests/sdk/tcp419-check.mjs, which runs this app in mcsim and in the XS host (lin profile)
 * and compares the traces line by line. Each line is what a call returned or threw, or a
 * callback with its argument. config.port: the driver's server (the first line a socket
 * writes names what the server does); config.refused: a port nobody listens on.
 */
import TCP from "embedded:io/socket/tcp";
import Timer from "timer";
import config from "mc/config";

const wait = ms => new Promise(resolve => Timer.set(resolve, ms));
const line = (...items) => trace(items.join(" ") + "\n");

function kind(e) {
	return (e instanceof SyntaxError) ? "SyntaxError" : (e instanceof RangeError) ? "RangeError"
		: (e instanceof TypeError) ? "TypeError" : (e instanceof Error) ? "Error" : typeof e;
}

function show(value) {
	if (value instanceof ArrayBuffer) {
		const bytes = new Uint8Array(value);
		const text = (bytes.length <= 32) ? Array.from(bytes, b => ((b >= 32) && (b < 127)) ? String.fromCharCode(b) : ".").join("") : "...";
		return `ArrayBuffer(${bytes.length}:${text})`;
	}
	if (typeof value === "string")
		return JSON.stringify(value);
	if ((typeof value === "object") && (value !== null))
		return "object";
	return String(value);
}

function attempt(label, f) {
	try {
		const value = f();
		line(label, "->", show(value));
		return value;
	}
	catch (e) {
		line(label, "throws", `${kind(e)}: ${e.message}`);
	}
}

/** A socket to the driver whose callbacks trace themselves, then run `then` (if any). */
function open(name, then = {}) {
	const s = new TCP({
		address: "127.0.0.1", port: config.port,
		onWritable(n) { line(name, "onWritable", n, this === s); then.onWritable?.call(this, n); },
		onReadable(n) { line(name, "onReadable", n, this === s); then.onReadable?.call(this, n); },
		onError(...args) { line(name, "onError", args.length, this === s); then.onError?.call(this); },
	});
	return s;
}

const scenarios = {
	async constructor() {
		const refused = config.refused;
		attempt("new TCP()", () => new TCP());
		attempt("new TCP(undefined)", () => new TCP(undefined));
		attempt("new TCP(5)", () => new TCP(5));
		attempt("name", () => new TCP({address: "localhost", port: 80}));
		attempt("host", () => new TCP({host: "127.0.0.1", port: refused}));
		attempt("no address", () => new TCP({port: 80}));
		attempt("127.0.0.256", () => new TCP({address: "127.0.0.256", port: refused}));
		attempt("127.0.0.08", () => new TCP({address: "127.0.0.08", port: refused}));
		attempt("::1", () => new TCP({address: "::1", port: refused}));
		attempt("0x", () => new TCP({address: "0x", port: refused}));
		attempt("too long", () => new TCP({address: "127.000000000000000000000000000.0.0.1", port: refused}));
		attempt("port 70000", () => new TCP({address: "127.0.0.1", port: 70000}));
		attempt("port -1", () => new TCP({address: "127.0.0.1", port: -1}));
		attempt("no port", () => new TCP({address: "127.0.0.1"}));
		attempt("format string", () => new TCP({address: "127.0.0.1", port: refused, format: "string"}));
		attempt("format bogus", () => new TCP({address: "127.0.0.1", port: refused, format: "bogus"}));
		attempt("onReadable 5", () => new TCP({address: "127.0.0.1", port: refused, onReadable: 5}));
		const sockets = [];
		for (const address of ["127.1", "0x7f.0.0.1", "2130706433", "127.0.0.1 x"])
			sockets.push(attempt(address, () => new TCP({address, port: refused, target: address, onError() { line(this.target, "onError"); }})));
		const a = sockets[0];
		attempt("target", () => a.target);
		attempt("format", () => a.format);
		attempt("format = string", () => { a.format = "string"; });
		attempt("format = bogus", () => { a.format = "bogus"; });
		attempt("read, nothing there", () => a.read());
		attempt("write 1 byte, not connected", () => a.write(new Uint8Array(1)));
		attempt("write a string", () => a.write("x"));
		await wait(100);
		for (const s of sockets)
			s?.close();
		attempt("close again", () => a.close());
		attempt("read closed", () => a.read());
		attempt("write closed", () => a.write(new Uint8Array(1)));
		attempt("format closed", () => a.format);
		attempt("remoteAddress closed", () => a.remoteAddress);
		const b = attempt("new TCP() b", () => new TCP());
		attempt("b read", () => b.read());
		attempt("b write 1", () => b.write(new Uint8Array(1)));
		attempt("b write 0", () => b.write(new Uint8Array(0)));
		attempt("b write 0 again", () => b.write(new Uint8Array(0)));
		b.close();
	},
	async echo() {
		let s;
		await new Promise(resolve => {
			s = open("echo", {
				onWritable() {
					if (this.started)
						return;
					this.started = true;
					line("echo remote", this.remoteAddress, this.remotePort === Number(config.port));
					attempt("echo write", () => this.write(ArrayBuffer.fromString("echo\nhello")));
				},
				onReadable(n) { if (n >= 10) resolve(); },
			});
		});
		attempt("read(2)", () => s.read(2));
		attempt("read()", () => s.read());
		attempt("read() again", () => s.read());
		attempt("write 1537", () => s.write(new Uint8Array(1537)));
		attempt("write 1536", () => s.write(new Uint8Array(1536).fill(0x31)));
		attempt("write 1", () => s.write(new Uint8Array(1)));
		await wait(200);
		const u8 = new Uint8Array(4);
		attempt("read(Uint8Array(4))", () => s.read(u8));
		line("buffer", Array.from(u8).join(","));
		attempt("read(Uint16Array)", () => s.read(new Uint16Array(1)));
		attempt("read(DataView(2))", () => s.read(new DataView(new ArrayBuffer(2))));
		attempt("read(0)", () => s.read(0));
		attempt("read(-1)", () => s.read(-1));
		attempt("read(null)", () => s.read(null));
		attempt("read(\"2\")", () => s.read("2"));
		attempt("read(true)", () => s.read(true));
		attempt("read(4294967297)", () => s.read(4294967297));
		attempt("read(1, 2)", () => s.read(1, 2));
		attempt("read(2000)", () => s.read(2000));
		attempt("read(ArrayBuffer(0))", () => s.read(new ArrayBuffer(0)));
		attempt("write(Uint16Array)", () => s.write(new Uint16Array(1)));
		attempt("write(DataView(2))", () => s.write(new DataView(new ArrayBuffer(2))));
		attempt("write(a, b)", () => s.write(new Uint8Array(1), new Uint8Array(1)));
		attempt("write(0 bytes)", () => s.write(new ArrayBuffer(0)));
		attempt("write()", () => s.write());
		s.format = "number";
		attempt("number read", () => s.read());
		attempt("number write", () => s.write(0x141));
		await wait(100);
		attempt("number read", () => s.read());
		s.format = "buffer";
		attempt("rest", () => s.read());
		s.close();
		await wait(100);
	},
	async unread() {
		const s = open("unread");
		await wait(100);
		attempt("unread write", () => s.write(ArrayBuffer.fromString("unread\n")));
		await wait(500);
		attempt("unread read", () => s.read());
		s.close();
	},
	async byeunread() {
		const s = open("byeunread");
		await wait(100);
		attempt("byeunread write", () => s.write(ArrayBuffer.fromString("bye\n")));
		await wait(300);
		attempt("byeunread read", () => s.read());
		await wait(300);
		attempt("byeunread write", () => s.write(ArrayBuffer.fromString("x")));
		await wait(100);
		s.close();
	},
	async byeread() {
		const s = open("byeread", {onReadable() { attempt("byeread read", () => this.read()); }});
		await wait(100);
		attempt("byeread write", () => s.write(ArrayBuffer.fromString("bye\n")));
		await wait(300);
		attempt("byeread write", () => s.write(ArrayBuffer.fromString("x")));
		attempt("byeread remoteAddress", () => s.remoteAddress);
		await wait(100);
		attempt("byeread write", () => s.write(ArrayBuffer.fromString("x")));
		s.close();
	},
	async refused() {
		const s = new TCP({address: "127.0.0.1", port: config.refused,
			onWritable(n) { line("refused onWritable", n); },
			onReadable(n) { line("refused onReadable", n); },
			onError() { line("refused onError"); }});
		await wait(200);
		attempt("refused write", () => s.write(new Uint8Array(1)));
		attempt("refused write", () => s.write(new Uint8Array(1)));
		s.close();
	},
	async reset() {
		const s = open("reset");
		await wait(100);
		attempt("reset write", () => s.write(ArrayBuffer.fromString("reset\n")));
		await wait(300);
		attempt("reset write", () => s.write(new Uint8Array(1)));
		s.close();
	},
	async flood() {
		const s = open("flood");
		await wait(100);
		attempt("flood write", () => s.write(ArrayBuffer.fromString("flood\n")));
		for (let i = 0; i < 3; i++) {
			await wait(300);
			attempt("flood read", () => s.read()?.byteLength);
		}
		await wait(300);
		s.close();
	},
	async closeinwritable() {
		let writable = 0;
		open("closeinwritable", {
			onWritable() {
				if (++writable === 1)
					this.write(ArrayBuffer.fromString("echo\n"));
				else {
					this.close();
					line("closed");
				}
			},
			onReadable() { attempt("read after close", () => this.read()); },
		});
		await wait(300);
	},
	async closeinerror() {
		const s = open("closeinerror", {onReadable() { this.read(); }, onError() { this.close(); }});
		await wait(100);
		s.write(ArrayBuffer.fromString("bye\n"));
		await wait(300);
	},
};

(async () => {
	for (const name of Object.keys(scenarios)) {
		line("BEGIN", name);
		try {
			await scenarios[name]();
		}
		catch (e) {
			line("scenario threw", `${kind(e)}: ${e.message}`);
		}
	}
	line("DONE");
})();
