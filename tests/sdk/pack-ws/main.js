// mqttc over WebSocket from the npm package: `import "mqttc/ws"` brings the transport (as
// manifest_ws.json does), subscribe at QoS 1, publish 5 messages at QoS 1, trace each recv,
// then DONE. config: host, port (mcconfig key=value).
import mqtt from "mqttc";
import "mqttc/ws";
import config from "mc/config";

const COUNT = 5;
const topic = "mcpack/ws";
let received = 0, sent = 0;

const client = mqtt.create(null, config.host, Number(config.port), false, { websocket: true });
client.on((c, event, data, payload, metas) => {
	switch (event) {
	case "conack": c.subscribe(topic, 1); break;
	case "suback": for (let i = 0; i < COUNT; i++) c.publish(topic, `message ${i}`, 1); break;
	case "sent": sent++; break;
	case "recv": received++; trace(`recv ${data} "${payload}" qos=${metas.qos} id=${metas.message_id}\n`); break;
	case "error": trace(`error ${data} ${payload}\n`); return;
	case "disconnect": trace(`disconnect ${data}\n`); return;
	}
	if (received === COUNT && sent === COUNT) {
		received++;
		trace(`DONE received ${COUNT} sent ${COUNT}\n`);
		c.disconnect();
	}
});
client.connect();
