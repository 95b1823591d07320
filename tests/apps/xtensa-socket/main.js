/*
 * The Xtensa host's `socket` against a scripted TCP server (tests/xtensa.test.mjs): device
 * (lwIP) semantics, each result a "name value" trace line the test compares.
 * First String.fromArrayBuffer's checks. The server sends "hello\nworld!" on connect,
 * then, when it received 8192 bytes, "bye" and closes.
 */
import {Socket} from "socket";
import Timer from "timer";
import config from "mc/config";

function show(name, value) {
	trace(`${name} ${value}\n`);
}

function attempt(f) {
	try {
		return f();
	}
	catch (e) {
		return e.name;
	}
}

export default function main() {
	// the device's text conversions, which the client relies on
	show("utf8-bad", attempt(() => String.fromArrayBuffer(Uint8Array.of(0xC3, 0x28).buffer)));
	show("utf8-range", attempt(() => String.fromArrayBuffer(new ArrayBuffer(4), 2, 4)));
	show("utf8-nul", JSON.stringify(String.fromArrayBuffer(Uint8Array.of(0x61, 0, 0x62).buffer)));
	show("utf8-slice", String.fromArrayBuffer(ArrayBuffer.fromString("h\u00e9llo"), 1, 3));
	const refused = new Socket({host: "127.0.0.1", port: config.closedPort});
	refused.callback = function (message) {
		show("refused", message);
	};
	const socket = new Socket({host: "127.0.0.1", port: config.port});
	let phase = 0;
	socket.callback = function (message, value) {
		if (message === Socket.connected) {
			show("connected", message);
			show("free", socket.write());
			try {
				socket.write(new Uint8Array(8193));
				show("oversize", "written");
			}
			catch (e) {
				show("oversize", e.message);
			}
			show("free-after-throw", socket.write());
		}
		else if (message === Socket.readable && phase === 0) {
			if (value < 12)
				return;		/* both lines not there yet: they stay buffered */
			phase = 1;
			show("readable", value);
			show("available", socket.read());
			show("number", socket.read(Number));
			show("line", JSON.stringify(socket.read(String, "\n")));
			show("count", JSON.stringify(socket.read(String, 2)));
			show("skip", socket.read(null, 1));
			show("available-now", socket.read());
			Timer.set(() => {
				/* outside a callback the unread bytes are still there, as with lwIP */
				const rest = socket.read(ArrayBuffer);
				show("later", String.fromArrayBuffer(rest));
				show("empty", socket.read(String));
				socket.write(new Uint8Array(4096), new Uint8Array(4095), 1);
				show("free-full", socket.write());
			}, 10);
		}
		else if (message === Socket.writable) {
			if (value === 8192 && phase === 1) {
				phase = 2;
				show("writable", value);
			}
		}
		else if (message === Socket.readable && phase === 2)
			show("bye", socket.read(String));
		else if (message === Socket.disconnected) {
			show("disconnected", message);
			try {
				socket.write("x");
			}
			catch (e) {
				show("write-after-close", e.message);
			}
			socket.close();
			show("closed", "twice is fine");
		}
	};
}
