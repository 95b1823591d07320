/*
 * mqttc-at/mqttconfig: AT+MQTTCONFIG of dialect B (mqttc-at/mqttset): the broker and the
 * CONNECT fields that the next AT+MQTTCONNECT uses. Values may be quoted or not; the
 * password (the last argument) takes the rest of the line, commas included.
 */

import {argInt, argText, ID_MAX, USER_MAX, PASS_MAX, type Arg} from "mqttc-at/parser";

const HOST_MAX = 128;

export class MqttConfig {
	/** Whether AT+MQTTCONFIG was given (else AT+MQTTCONNECT answers code 11). */
	configured = false;
	host = "";
	port = 0;
	clientId = "";
	clean = 1;
	keepaliveS = 60;
	user = "";
	pass = "";

	/** AT+MQTTCONFIG=<url>,<port>,<client id>,<clean>,<keepalive>[,<user>[,<pass>]]: false (-> code 3) when wrong. */
	set(a: Arg[] | undefined): boolean {
		if (!a || a.length < 5) return false;
		const host = argText(a[0], HOST_MAX, false), port = argInt(a[1], 1, 65535), id = argText(a[2], ID_MAX);
		const clean = argInt(a[3], 0, 1), ka = argInt(a[4], 0, 65535);
		const user = a.length > 5 ? argText(a[5], USER_MAX) : "", pass = a.length > 6 ? argText(a[6], PASS_MAX) : "";
		if (host === undefined || port < 0 || id === undefined || clean < 0 || ka < 0 || user === undefined || pass === undefined) return false;
		this.configured = true;
		this.host = host;
		this.port = port;
		this.clientId = id;
		this.clean = clean;
		this.keepaliveS = ka;
		this.user = user;
		this.pass = pass;
		return true;
	}

	/** The values as AT+MQTTCONFIG? lists them. */
	values(): string {
		return [this.host, this.port, this.clientId, this.clean, this.keepaliveS, this.user, this.pass].join(",");
	}
}
