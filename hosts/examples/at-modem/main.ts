/*
 * at-modem: a device running mqttc answers MQTT AT commands on a serial line.
 *
 * On a device the "UART" is the ECMA-419 serial port of the host provider
 * (device.io.Serial, the class "embedded:io/serial" exports), configured by
 * config.serial {port, receive, transmit, baud}. When config.uart_port is set (the
 * desktop XS host, the Linux simulator) the app instead connects out with a TCP socket to
 * config.uart_host:config.uart_port, which stands in for the serial line; terminal.mjs
 * beside this file listens there and connects it to your terminal.
 *
 *   node hosts/examples/at-modem/terminal.mjs          # then type AT commands
 *   mcconfig -d -m -p esp32 hosts/examples/at-modem    # on a device: UART1, GPIO16/17
 */

import {AtEngine} from "mqttc-at";
import {Socket} from "socket";
import Timer from "timer";
import config from "mc/config";

/** Bytes waiting for room in the transport's send buffer (bounded: OUTBOX_MAX). */
const OUTBOX_MAX = 16384;

class Outbox {
	private chunks: Uint8Array[] = [];
	private bytes = 0;
	dropped = 0;

	push(data: ArrayBuffer | string): void {
		const u = new Uint8Array(typeof data === "string" ? ArrayBuffer.fromString(data) : data);
		if (this.bytes + u.length > OUTBOX_MAX) {
			this.dropped += u.length;
			return;
		}
		this.chunks.push(u);
		this.bytes += u.length;
	}

	/** Hands at most `room` bytes to `send`; returns the room left. */
	pump(room: number, send: (bytes: Uint8Array) => void): number {
		while (this.chunks.length && room > 0) {
			const c = this.chunks[0];
			if (c.length <= room) {
				this.chunks.shift();
				send(c);
				room -= c.length;
				this.bytes -= c.length;
			} else {
				send(c.subarray(0, room));
				this.chunks[0] = c.subarray(room);
				this.bytes -= room;
				room = 0;
			}
		}
		return room;
	}
}

interface Uart {
	write(bytes: ArrayBuffer | string): void;
}

/** A TCP connection standing in for the UART; reconnects every second while it is down. */
class TcpUart implements Uart {
	private readonly host: string;
	private readonly port: number;
	private readonly receive: (bytes: ArrayBuffer) => void;
	private readonly outbox = new Outbox();
	private socket: Socket | null = null;
	private up = false;

	constructor(host: string, port: number, receive: (bytes: ArrayBuffer) => void) {
		this.host = host;
		this.port = port;
		this.receive = receive;
		this.open();
	}

	private open(): void {
		const s = new Socket({host: this.host, port: this.port});
		this.socket = s;
		s.callback = (message: number, value?: number) => {
			try {
				if (message === 1) {
					this.up = true;
					trace(`at-modem: uart ${this.host}:${this.port} connected\n`);
					this.flush();
				} else if (message === 2) {
					const bytes = s.read(ArrayBuffer) as ArrayBuffer;
					if (bytes) this.receive(bytes);
				} else if (message === 3) {
					this.flush();
				} else if (message < 0) {
					this.up = false;
					this.socket = null;
					try {
						s.close();
					} catch {
						// already gone
					}
					trace(`at-modem: uart ${this.host}:${this.port} closed\n`);
					Timer.set(() => this.open(), 1000);
				}
			} catch (e) {
				trace(`at-modem: uart error ${e}\n`);
			}
		};
	}

	private flush(): void {
		const s = this.socket;
		if (!s || !this.up) return;
		this.outbox.pump(s.write() as number, (bytes) => s.write(bytes));
	}

	write(bytes: ArrayBuffer | string): void {
		this.outbox.push(bytes);
		this.flush();
	}
}

/** The device's UART through the ECMA-419 host provider (device.io.Serial). */
class SerialUart implements Uart {
	private readonly outbox = new Outbox();
	private readonly serial: any;
	private room = 0;

	constructor(options: {port?: number; receive?: number; transmit?: number; baud?: number}, receive: (bytes: ArrayBuffer) => void) {
		const device = (globalThis as any).device;
		if (!device?.io?.Serial) throw new Error("no embedded:io/serial on this host; set config.uart_port to use TCP");
		const self = this;
		this.serial = new device.io.Serial({
			...device.Serial?.default,
			...options,
			format: "buffer",
			onReadable(this: any) {
				try {
					const bytes = this.read();
					if (bytes) receive(bytes);
				} catch (e) {
					trace(`at-modem: serial error ${e}\n`);
				}
			},
			onWritable(this: any, count: number) {
				self.room = count;
				self.flush();
			},
		});
	}

	private flush(): void {
		this.room = this.outbox.pump(this.room, (bytes) => this.serial.write(bytes));
	}

	write(bytes: ArrayBuffer | string): void {
		this.outbox.push(bytes);
		this.flush();
	}
}

export default function main(): void {
	const holder: {uart: Uart | null} = {uart: null};
	const engine = new AtEngine({
		write(bytes) {
			holder.uart?.write(bytes);
		},
	});
	const receive = (bytes: ArrayBuffer) => engine.input(bytes);
	const port = Number(config.uart_port) || 0;
	try {
		if (port > 0) holder.uart = new TcpUart(String(config.uart_host || "127.0.0.1"), port, receive);
		else holder.uart = new SerialUart(config.serial ?? {}, receive);
	}
	catch (e) {
		// Say why in the log rather than abort the VM with an anonymous exception.
		trace(`at-modem: cannot open the serial line: ${(e as Error).message}\n`);
		return;
	}
	trace(`at-modem: ready\n`);
}
