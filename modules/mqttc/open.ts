/*
 * open(): the link's connect step in two (an opt-in feature for a modem front end, whose
 * AT+ECMTOPEN opens TCP/TLS and AT+ECMTCONN then sends CONNECT; manifest_at.json includes
 * manifest_open.json). The client loads this module with Modules.importNow at open().
 *
 * While the link opens this way, `link.opening` holds the state: the socket's "connected"
 * raises `open` instead of sending CONNECT (and ends the CONNACK deadline: none runs while
 * the app decides), and connect() sends CONNECT on the open socket, or as soon as it is up.
 * A failed open() is not retried (mqttc/link's lost()).
 */

import type { Link } from "mqttc/link";
import type { Opening } from "mqttc/types";

class Open implements Opening {
	/** The socket is up and CONNECT not sent. */
	linked = false;

	connected(link: Link): void {
		link.clearTimer("connTimer");
		this.linked = true;
		link.emit("open");
	}

	connect(link: Link): boolean {
		link.opening = undefined;
		link.stopped = false;
		if (!this.linked) return true;     // CONNECT goes when the socket connects
		link.armConnTimer();
		link.sendConnect();
		return true;
	}
}

export default Object.freeze({
	/** open() on a disconnected link (the client checked): the socket is being opened. */
	open(link: Link): boolean {
		link.opening = new Open();
		return link.start();
	},
});
