// The AT front end from the npm package (import {AtEngine} from "mqttc/at"): commands fed
// to input() one after the other, each when the previous one's answer came; DONE at the
// end. config: port (of the broker on 127.0.0.1).
import {AtEngine} from "mqttc/at";
import Timer from "timer";
import config from "mc/config";

const port = Number(config.port);
const script = [
	["ATI", /^OK$/],
	[`AT+ECMTOPEN=0,"127.0.0.1",${port}`, /^\+ECMTOPEN: 0,0$/],
	[`AT+ECMTCONN=0,"mcpack-at"`, /^\+ECMTCONN: 0,0,0$/],
	[`AT+ECMTSUB=0,1,"mcpack/at",1`, /^\+ECMTSUB: 0,1,0,1$/],
	[`AT+ECMTPUB=0,2,1,0,"mcpack/at","hello"`, /^\+ECMTPUB: 0,2,0$/],
];
let at = 0;
let text = "";
const engine = new AtEngine({
	write(bytes) {
		text += typeof bytes === "string" ? bytes : String.fromArrayBuffer(bytes);
		let end;
		while ((end = text.indexOf("\r\n")) >= 0) {
			const line = text.slice(0, end);
			text = text.slice(end + 2);
			if (!line) continue;
			trace(`< ${line}\n`);
			if (at < script.length && script[at][1].test(line)) {
				at++;
				Timer.set(next, 0);		// not from inside the engine's write
			}
		}
	},
	echo: false,
});
function next() {
	if (at === script.length) {
		trace("DONE\n");
		engine.close();
		return;
	}
	trace(`> ${script[at][0]}\n`);
	engine.input(script[at][0] + "\r");
}
next();
