/*
 * Failover between broker addresses (an opt-in feature: apps that set `opts.backup` include
 * mqttc's manifest_failover.json; the core loads this module with Modules.importNow only
 * then, so a plain app carries none of it): the one given to create() first, then those of
 * `opts.backup` (e.g. the other nodes of a broker cluster), tried in turn as a ring.
 *
 * A round is one try of every address. When a connection fails or drops, the next address
 * is tried at once until the round is over; only then does the reconnect policy's delay
 * (fixed period or backoff) apply. So a device whose node goes down is on the next node
 * within one connection attempt, and a fleet facing a whole-cluster outage still spreads
 * out by its backoff. The client stays on the address that worked last.
 */

import type { BrokerAddress, FailoverRing } from "mqttc/types";

/** At most this many backup addresses (bounds the list and one round's length). */
export const MAX_BACKUPS = 8;

/**
 * The addresses from create()'s host/port and `opts.backup`: a list of "host",
 * "host:port" or {host, port} (port defaults to the primary's). A reason when invalid.
 */
function brokerAddresses(host: string, port: number, backup: unknown): BrokerAddress[] | string {
	const addresses: BrokerAddress[] = [{ host, port }];
	if (backup === undefined || backup === null) return addresses;
	if (!Array.isArray(backup)) return "backup must be a list of \"host\", \"host:port\" or {host, port}";
	if (backup.length > MAX_BACKUPS) return `at most ${MAX_BACKUPS} backup addresses`;
	for (const item of backup as unknown[]) {
		let name: unknown = item;
		let number: unknown = port;
		if (typeof item === "string") {
			const colon = item.lastIndexOf(":");
			if (colon > 0 && item.indexOf(":") === colon) {     // one colon: host:port (an IPv6 literal has several)
				name = item.slice(0, colon);
				number = Number(item.slice(colon + 1));
			}
		}
		else if (item && typeof item === "object") {
			name = (item as { host?: unknown }).host;
			number = (item as { port?: unknown }).port ?? port;
		}
		if (typeof name !== "string" || !name.length) return "backup host must be a non-empty string";
		if (typeof number !== "number" || !(number >= 1 && number <= 65535) || (number | 0) !== number) return `backup port must be 1..65535: ${name}`;
		addresses.push({ host: name, port: number });
	}
	return addresses;
}

/** Which address to use, and whether the round of tries is over. */
export class Failover implements FailoverRing {
	private readonly addresses: readonly BrokerAddress[];
	private index = 0;
	private failures = 0;                  // failed tries in the current round

	constructor(addresses: readonly BrokerAddress[]) {
		this.addresses = addresses;
	}

	get current(): BrokerAddress {
		return this.addresses[this.index];
	}

	/** connect() called by the app: a fresh round from the current address. */
	restart(): void {
		this.failures = 0;
	}

	/**
	 * The connection to the current address failed (`established` false) or dropped after
	 * CONNACK (true: a new round starts with this failure). Moves to the next address;
	 * true when it should be tried at once, false when the round is over.
	 */
	failed(established: boolean): boolean {
		if (established) this.failures = 0;
		this.index = (this.index + 1) % this.addresses.length;
		if (++this.failures < this.addresses.length) return true;
		this.failures = 0;
		return false;
	}
}

/** What the client takes through Modules.importNow("mqttc/failover"): the ring for
 * create()'s address and `opts.backup`, or the reason the list is invalid. */
export default Object.freeze({
	ring(host: string, port: number, backup: unknown): FailoverRing | string {
		const addresses = brokerAddresses(host, port, backup);
		return typeof addresses === "string" ? addresses : new Failover(addresses);
	},
});
