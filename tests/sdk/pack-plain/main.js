// mqttc from the npm package: subscribe at QoS 1, publish 5 messages at QoS 1, trace each
// recv, then DONE. config: host, port (mcconfig key=value).
import mqtt from "mqttc";
import Modules from "modules";
import config from "mc/config";
import roundTrip from "./roundtrip.js";

trace(`TLS carried: ${Modules.has("mqttc/tls")} securesocket: ${Modules.has("securesocket")}\n`);
const client = mqtt.create(null, config.host, Number(config.port));
roundTrip(client, "mcpack/plain");
