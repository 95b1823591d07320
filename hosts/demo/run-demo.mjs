// `make demo`: starts an embedded broker (Aedes) on 127.0.0.1 with a free port and runs the
// example app in the XS host against it until the app says it is done.
import { createServer } from "node:net";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Aedes } from "aedes";

const root = fileURLToPath(new URL("../..", import.meta.url));
const broker = await Aedes.createBroker();
// noDelay on the broker's side too: otherwise Nagle holds each PUBLISH for our delayed ACK.
const server = createServer((socket) => {
	socket.setNoDelay(true);
	broker.handle(socket);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address();
console.log(`demo: Aedes broker on 127.0.0.1:${port}`);

const child = spawn(process.execPath, [
	"hosts/xs/run.mjs", "hosts/examples/hello", "host=127.0.0.1", `port=${port}`,
	"--until", "hello: done", "--timeout", "30",
], { cwd: root, stdio: "inherit" });
const code = await new Promise((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
server.close();
broker.close();
console.log(code === 0 ? "demo: finished" : `demo: the app exited with ${code}`);
process.exit(code);
