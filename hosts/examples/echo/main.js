/*
 * echo — connect to config.host:config.port, send one line, trace the echoed
 * line and the round trip time. Uses only Moddable APIs (socket, timer, mc/config).
 *
 *   node hosts/xs/run.mjs hosts/examples/echo port=7777 --until "round trip"
 */
import {Socket} from "socket";
import Timer from "timer";
import config from "mc/config";

const line = String(config.message) + "\n";
let received = "";
let sent = 0;

const socket = new Socket({host: config.host, port: config.port, noDelay: true});

const timeout = Timer.set(() => {
	trace(`echo: no reply within ${config.timeout} ms\n`);
	socket.close();
}, config.timeout);

function finish() {
	Timer.clear(timeout);
	socket.close();
}

socket.callback = function (message, value) {
	switch (message) {
		case Socket.connected:
			trace(`echo: connected to ${config.host}:${config.port}\n`);
			if (this.write() < line.length) {		// never hand over more than write() reports
				trace("echo: send buffer too small\n");
				finish();
				break;
			}
			sent = Date.now();
			this.write(line);
			break;
		case Socket.readable:
			received += this.read(String);		// read all of it: unread bytes are lost after the callback
			if (received.includes("\n")) {
				trace(`echo: reply "${received.slice(0, received.indexOf("\n"))}"\n`);
				trace(`echo: round trip ${Date.now() - sent} ms\n`);
				finish();
			}
			break;
		case Socket.writable:
			break;
		case Socket.disconnected:
			trace("echo: peer closed the connection\n");
			finish();
			break;
		case Socket.error:
			trace("echo: socket error\n");
			finish();
			break;
	}
};
