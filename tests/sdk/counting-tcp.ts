/*
 * For the mcsim apps io/ and iotls/ (module "sdkcheck/counting-tcp"): the SDK's ECMA-419 TCP
 * socket with its callbacks counted (and the counts onWritable gives), and the trace line of
 * what one client's connection saw of them.
 */
type SocketClass = new (options: Record<string, unknown>) => object;

export interface Counted {
	writable: number;
	readable: number;
	error: number;
	counts: Map<number, number>;
}

/** A subclass of `TCP` that counts its callbacks into `counted`. */
export function countingTCP(TCP: SocketClass, counted: Counted): SocketClass {
	return class extends TCP {
		constructor(options: Record<string, unknown>) {
			const onWritable = options.onWritable as (count: number) => void;
			const onReadable = options.onReadable as (count: number) => void;
			const onError = options.onError as () => void;
			super({
				...options,
				onWritable(count: number) {
					counted.writable++;
					counted.counts.set(count, (counted.counts.get(count) ?? 0) + 1);
					onWritable(count);
				},
				onReadable(count: number) {
					counted.readable++;
					onReadable(count);
				},
				onError() {
					counted.error++;
					onError();
				},
			});
		}
	};
}

/** What is counted now, to compare with later (countsLine). */
export function snapshot(counted: Counted): Counted {
	return { ...counted, counts: new Map(counted.counts) };
}

/** "<label> socket onWritable n (count xn, ...) onReadable n onError n" since `before`. */
export function countsLine(label: string, counted: Counted, before: Counted): string {
	const counts = [...counted.counts].map(([count, n]) => [count, n - (before.counts.get(count) ?? 0)]).filter(([, n]) => n > 0);
	return `${label} socket onWritable ${counted.writable - before.writable} (${counts.map(([count, n]) => `${count} x${n}`).join(", ")}) onReadable ${counted.readable - before.readable} onError ${counted.error - before.error}\n`;
}
