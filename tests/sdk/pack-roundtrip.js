// The round trip the npm-package apps share (tests/sdk/mcpack-check.mjs copies this file into
// each app as roundtrip.js): subscribe at QoS 1, publish `count` messages at QoS 1, trace each
// recv, then DONE and a graceful disconnect.
export default function roundTrip(client, topic, count = 5) {
	let received = 0, sent = 0;
	client.on((c, event, data, payload, metas) => {
		switch (event) {
		case "conack": c.subscribe(topic, 1); break;
		case "suback": for (let i = 0; i < count; i++) c.publish(topic, `message ${i}`, 1); break;
		case "sent": sent++; break;
		case "recv": received++; trace(`recv ${data} "${payload}" qos=${metas.qos} id=${metas.message_id}\n`); break;
		case "error": trace(`error ${data} ${payload}\n`); return;
		case "disconnect": trace(`disconnect ${data}\n`); return;
		}
		if (received === count && sent === count) {
			received++;
			trace(`DONE received ${count} sent ${count}\n`);
			c.disconnect();
		}
	});
	client.connect();
}
