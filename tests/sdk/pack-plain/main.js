// mqttc from the npm package: subscribe at QoS 1, publish 5 messages at QoS 1, trace each
// recv, then DONE. config: host, port (mcconfig key=value).
import mqtt from "mqttc";
import Modules from "modules";
import config from "mc/config";

const COUNT = 5;
const topic = "mcpack/plain";
let received = 0, sent = 0;

trace(`TLS carried: ${Modules.has("mqttc/tls")} securesocket: ${Modules.has("securesocket")}\n`);
const client = mqtt.create(null, config.host, Number(config.port));
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
