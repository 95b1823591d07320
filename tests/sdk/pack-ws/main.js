// mqttc over WebSocket from the npm package: `import "mqttc/ws"` brings the transport (as
// manifest_ws.json does), subscribe at QoS 1, publish 5 messages at QoS 1, trace each recv,
// then DONE. config: host, port (mcconfig key=value).
import mqtt from "mqttc";
import "mqttc/ws";
import config from "mc/config";
import roundTrip from "./roundtrip.js";

const client = mqtt.create(null, config.host, Number(config.port), false, { websocket: true });
roundTrip(client, "mcpack/ws");
