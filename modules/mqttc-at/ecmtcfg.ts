/*
 * mqttc-at/ecmtcfg: AT+ECMTCFG of dialect A (mqttc-at/ecmt), the settings it reads and
 * writes. They apply to what comes next: "timeout" at the next AT+ECMTOPEN and to the
 * commands sent after it, the others at the next AT+ECMTCONN.
 */

import type {AtIo} from "mqttc-at/types";
import {argInt, argQuoted, hasWildcard, TOPIC_MAX, type Arg} from "mqttc-at/parser";

export class EcmtConfig {
	keepaliveS = 120;
	clean = 1;
	/** Seconds: TCP open timeout (mqttc conn_timeout) and the wait for each acknowledgement. */
	pktTimeout = 10;
	retries = 3;
	report = 0;
	willFlag = 0;
	willQos = 0;
	willRetain = 0;
	willTopic = "";
	willMsg = "";

	/** AT+ECMTCFG=<what>,0[,<values>]: returns false (-> ERROR) before it has written anything. */
	set(io: AtIo, a: Arg[]): boolean {
		const what = argQuoted(a[0], 16);
		if (what === undefined || argInt(a[1], 0, 0) < 0) return false;
		const key = what.toLowerCase(), query = a.length === 2;
		switch (key) {
			case "keepalive": {
				if (query) {
					io.line('+ECMTCFG: "keepalive",' + this.keepaliveS);
					break;
				}
				const v = argInt(a[2], 0, 3600);
				if (v < 0 || a.length !== 3) return false;
				this.keepaliveS = v;
				break;
			}
			case "session": {
				if (query) {
					io.line('+ECMTCFG: "session",' + this.clean);
					break;
				}
				const v = argInt(a[2], 0, 1);
				if (v < 0 || a.length !== 3) return false;
				this.clean = v;
				break;
			}
			case "timeout": {
				if (query) {
					io.line('+ECMTCFG: "timeout",' + this.pktTimeout + "," + this.retries + "," + this.report);
					break;
				}
				const t = argInt(a[2], 1, 60);
				const r = a.length > 3 ? argInt(a[3], 1, 10) : this.retries;
				const p = a.length > 4 ? argInt(a[4], 0, 1) : this.report;
				if (t < 0 || r < 0 || p < 0 || a.length > 5) return false;
				this.pktTimeout = t;
				this.retries = r;
				this.report = p;
				break;
			}
			case "will": {
				if (query) {
					io.line('+ECMTCFG: "will",' + this.willFlag + "," + this.willQos + "," + this.willRetain + ',"' + this.willTopic + '","' + this.willMsg + '"');
					break;
				}
				const f = argInt(a[2], 0, 1);
				if (f < 0) return false;
				if (f === 0 && a.length === 3) {
					this.willFlag = 0;
					break;
				}
				const q = argInt(a[3], 0, 2), r = argInt(a[4], 0, 1);
				const topic = argQuoted(a[5], TOPIC_MAX, false), msg = argQuoted(a[6], 1024);
				if (q < 0 || r < 0 || topic === undefined || msg === undefined || a.length !== 7 || hasWildcard(topic)) return false;
				this.willFlag = f;
				this.willQos = q;
				this.willRetain = r;
				this.willTopic = topic;
				this.willMsg = msg;
				break;
			}
			case "version": {
				if (query) {
					io.line('+ECMTCFG: "version",4');
					break;
				}
				// mqttc speaks MQTT 3.1.1 (4) only; 3.1 (3) is refused
				if (argInt(a[2], 4, 4) < 0 || a.length !== 3) return false;
				break;
			}
			default:
				return false;
		}
		io.line("OK");
		return true;
	}
}
