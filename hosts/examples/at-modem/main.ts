/*
 * at-modem: a device running mqttc answers MQTT AT commands on a serial line.
 *
 * On a device the "UART" is the ECMA-419 serial port of the host provider
 * (device.io.Serial, the class "embedded:io/serial" exports), configured by
 * config.serial {port, receive, transmit, baud}. When config.uart_port is set (the
 * desktop XS host, the Linux simulator) the app instead connects out with a TCP socket to
 * config.uart_host:config.uart_port, which stands in for the serial line; terminal.mjs
 * beside this file listens there and connects it to your terminal. config.uart_baud > 0
 * makes that stand-in send no faster than a UART at that baud rate (the tests use 115200).
 *
 *   node hosts/examples/at-modem/terminal.mjs          # then type AT commands
 *   mcconfig -d -m -p esp32 hosts/examples/at-modem    # on a device: UART1, GPIO16/17
 */

import {AtEngine} from "mqttc-at";
import {Socket} from "socket";
import Timer from "timer";
import config from "mc/config";

/** Bytes the stand-in UART's transmitter holds (like a UART driver's TX FIFO). */
const FIFO_BYTES = 256;
/** How often the stand-in UART drains its FIFO, in ms. */
const TICK_MS = 10;

interface Uart {
	/** Takes what it can of `bytes` now; returns how many it took. */
	write(bytes: ArrayBuffer | string): number;
}

/**
 * A TCP connection standing in for the UART; reconnects every second while it is down.
 * With `baud` > 0 it sends no faster than a UART at that rate would (baud / 10 bytes per
 * second, 8N1), through a FIFO of FIFO_BYTES, so that the engine meets the slow line a
 * device has; with 0 it sends as fast as the socket takes bytes.
 */
class TcpUart implements Uart {
	private readonly host: string;
	private readonly port: number;
	private readonly receive: (bytes: ArrayBuffer) => void;
	private readonly writable: () => void;
	private readonly perTick: number;
	private socket: Socket | null = null;
	private up = false;
	/** Bytes the paced line may still take before the next tick. */
	private credit = FIFO_BYTES;

	constructor(host: string, port: number, baud: number, receive: (bytes: ArrayBuffer) => void, writable: () => void) {
		this.host = host;
		this.port = port;
		this.receive = receive;
		this.writable = writable;
		this.perTick = baud > 0 ? Math.max(1, Math.floor(baud / 10 * TICK_MS / 1000)) : 0;
		if (this.perTick) {
			Timer.repeat(() => {
				try {
					if (this.credit >= FIFO_BYTES) return;
					this.credit = Math.min(FIFO_BYTES, this.credit + this.perTick);
					if (this.up) this.writable();
				} catch (e) {
					trace(`at-modem: uart error ${e}\n`);
				}
			}, TICK_MS);
		}
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
					this.writable();
				} else if (message === 2) {
					const bytes = s.read(ArrayBuffer) as ArrayBuffer;
					if (bytes) this.receive(bytes);
				} else if (message === 3) {
					this.writable();
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

	write(bytes: ArrayBuffer | string): number {
		const s = this.socket;
		if (!s || !this.up) return 0;
		const buf = typeof bytes === "string" ? ArrayBuffer.fromString(bytes) : bytes;
		let n = Math.min(buf.byteLength, s.write() as number);
		if (this.perTick) n = Math.min(n, this.credit);
		if (n <= 0) return 0;
		s.write(n === buf.byteLength ? buf : buf.slice(0, n));
		if (this.perTick) this.credit -= n;
		return n;
	}
}

/** The device's UART through the ECMA-419 host provider (device.io.Serial). */
class SerialUart implements Uart {
	private readonly serial: any;
	private room = 0;

	constructor(options: {port?: number; receive?: number; transmit?: number; baud?: number}, receive: (bytes: ArrayBuffer) => void, writable: () => void) {
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
				try {
					self.room = count;
					writable();
				} catch (e) {
					trace(`at-modem: serial error ${e}\n`);
				}
			},
		});
	}

	write(bytes: ArrayBuffer | string): number {
		const buf = typeof bytes === "string" ? ArrayBuffer.fromString(bytes) : bytes;
		const n = Math.min(buf.byteLength, this.room);
		if (n <= 0) return 0;
		this.serial.write(n === buf.byteLength ? buf : buf.slice(0, n));
		this.room -= n;
		return n;
	}
}

export default function main(): void {
	const holder: {uart: Uart | null} = {uart: null};
	// The engine queues what the UART cannot take yet (bounded) and holds back messages
	// (and their acknowledgement to the broker) until there is room: nothing is dropped here.
	const engine = new AtEngine({
		write: (bytes) => (holder.uart ? holder.uart.write(bytes) : 0),
	});
	const receive = (bytes: ArrayBuffer) => engine.input(bytes);
	const writable = () => engine.writable();
	const port = Number(config.uart_port) || 0;
	try {
		if (port > 0) holder.uart = new TcpUart(String(config.uart_host || "127.0.0.1"), port, Number(config.uart_baud) || 0, receive, writable);
		else holder.uart = new SerialUart(config.serial ?? {}, receive, writable);
	}
	catch (e) {
		// Say why in the log rather than abort the VM with an anonymous exception.
		trace(`at-modem: cannot open the serial line: ${(e as Error).message}\n`);
		return;
	}
	trace(`at-modem: ready\n`);
}
