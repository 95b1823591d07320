// mqttc over the ECMA-419 TCP socket from the npm package: `import "mqttc/io"` brings
// mqttc/io and the SDK's IO (`embedded:io/socket/tcp`), as manifest_io.json does; then the
// shared round trip (subscribe at QoS 1, publish 5 messages at QoS 1, trace each recv, DONE)
// with `opts.io`. config: host (an IP address: ECMA-419 sockets take no name), port
// (mcconfig key=value).
import mqtt from "mqttc";
import "mqttc/io";
import Modules from "modules";
import config from "mc/config";
import roundTrip from "./roundtrip.js";

trace(`IO carried: ${Modules.has("mqttc/io")} tcp: ${Modules.has("embedded:io/socket/tcp")} TLS carried: ${Modules.has("mqttc/tls")}\n`);
const client = mqtt.create(null, config.host, Number(config.port), false, { io: true });
if (client) roundTrip(client, "mcpack/io");
else trace("create failed\n");
