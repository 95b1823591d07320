// `make sim-log`: runs a release build of an app in the Moddable simulator (mcsim) with its
// trace on this terminal. mcsim never exits by itself and a debug build sends trace to xsbug,
// so this starts the release build (under xvfb-run when there is no display), prints what it
// traces, and stops it once a line contains the app's last words or after a time limit. Only
// this mcsim is stopped (the SDK's debug target ends every mcsim on the machine).
//   node hosts/sim-log.mjs <mc.so> <last line> <seconds>
import { spawn } from "node:child_process";

const [library, last, seconds = "30"] = process.argv.slice(2);
if (!library || !last) {
	console.error("usage: node hosts/sim-log.mjs <mc.so> <last line> [seconds]");
	process.exit(2);
}
const command = process.env.DISPLAY ? ["stdbuf", "-oL", "mcsim", library] : ["xvfb-run", "-a", "stdbuf", "-oL", "mcsim", library];
// Its own process group, so that stopping it also stops xvfb-run's X server and mcsim.
const child = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "inherit"], detached: true });
let seen = false;
let pending = "";
child.stdout.on("data", (data) => {
	process.stdout.write(data);
	pending += data;
	const lines = pending.split("\n");
	pending = lines.pop();
	if (!seen && lines.some((line) => line.includes(last))) {
		seen = true;
		stop();
	}
});
const stop = () => { try { process.kill(-child.pid, "SIGTERM"); } catch { /* gone already */ } };
const timer = setTimeout(stop, Number(seconds) * 1000);
child.on("exit", () => {
	clearTimeout(timer);
	if (!seen) console.error(`sim-log: "${last}" not seen within ${seconds} s`);
	process.exit(seen ? 0 : 1);
});
