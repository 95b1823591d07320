// Misuses of the AT engine's API that must not compile.
import { AtEngine } from "mqttc-at";

new AtEngine({}); // misuse: write is required
const engine = new AtEngine({ write() {} });
engine.input(42); // misuse: input takes bytes or a string
new AtEngine({ write() {}, lineMax: "long" }); // misuse: bounds are numbers
new AtEngine({ write() {}, urcMax: 4096 }); // misuse: no longer an option (txMax bounds everything)
engine.messagesDropped = 0; // misuse: read-only counter
