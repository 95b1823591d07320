// mqttc from the npm package over mutual TLS, opted in by `import "mqttc/tls"`: subscribe
// at QoS 1, publish 5 messages at QoS 1, trace each recv, then DONE. config: host, port
// (mcconfig key=value); certs.js (the broker's CA, the device's certificate and key) is
// written by the driver. The broker requires a client certificate, which the SDK's TLS can
// only prove after an RSA or ECDHE_RSA key exchange: this app connects only if the package
// brought manifest_tls.json's config (tls.DHE_RSA false) along.
import mqtt from "mqttc";
import "mqttc/tls";
import certs from "./certs.js";
import Modules from "modules";
import config from "mc/config";
import roundTrip from "./roundtrip.js";

trace(`TLS carried: ${Modules.has("mqttc/tls")} securesocket: ${Modules.has("securesocket")}\n`);
const client = mqtt.create(null, config.host, Number(config.port), {server_cert: certs.ca, client_cert: certs.cert, client_key: certs.key});
roundTrip(client, "mcpack/tls");
