// "mqttc/tls": import it for its effect, `import "mqttc/tls";`, to build an app with TLS
// (mqtt.create with `ssl`). See dist/tls.js.
export {};
