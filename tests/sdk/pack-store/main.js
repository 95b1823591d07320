// mqttc's durable session from the npm package, in two boots. config: host, port, phase,
// store (mcconfig key=value: strings). Phase 1 (port with no broker): 5 QoS 1 messages
// accepted onto storage, "DONE accepted 5". Phase 2 (the broker's port): the store restores
// them and the client delivers them, "DONE restored 5 sent 5".
import mqtt from "mqttc";
import Store from "mqttc/store";
import config from "mc/config";

const COUNT = 5;
const store = new Store(config.store);
trace(`restored ${store.restored.length} unreadable ${store.unreadable}\n`);
const client = mqtt.create(null, config.host, Number(config.port), false, { store });
client.auth("mcpack-store", "", "", false);
if (config.phase === "1") {
	let accepted = 0;
	for (let i = 0; i < COUNT; i++)
		if (client.publish("mcpack/store", `stored ${i}`, 1) !== null) accepted++;
	trace(`DONE accepted ${accepted}\n`);
}
else {
	const restored = store.restored.length;
	let sent = 0;
	client.on((c, event, data, payload) => {
		if (event === "sent" && ++sent === restored) trace(`DONE restored ${restored} sent ${sent}\n`);
		else if (event === "error") trace(`error ${data} ${payload}\n`);
	});
	client.connect();
}
