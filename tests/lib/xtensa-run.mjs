// Runs an app through hosts/xtensa/run.mjs, as a user would, for the Xtensa tier's tests.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUN = path.join(ROOT, "hosts", "xtensa", "run.mjs");

/** Start run.mjs on `app`: lines of output arrive in `lines` (and onLine), waitFor(re)
 * resolves on a matching line, `exited` on the exit code. */
export function runXtensa(app, args, onLine = () => {}) {
	const child = spawn(process.execPath, [RUN, app, ...args], { stdio: ["ignore", "pipe", "pipe"] });
	const lines = [];
	let stderr = "";
	const waiters = new Set();
	let partial = "";
	child.stdout.setEncoding("utf8");
	child.stdout.on("data", (text) => {
		partial += text;
		let at;
		while ((at = partial.indexOf("\n")) >= 0) {
			const line = partial.slice(0, at);
			partial = partial.slice(at + 1);
			lines.push(line);
			onLine(line);
			for (const w of waiters) if (w.re.test(line)) { waiters.delete(w); w.resolve(line); }
		}
	});
	child.stderr.setEncoding("utf8");
	child.stderr.on("data", (text) => { stderr += text; });
	const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
	return {
		lines,
		get stderr() { return stderr; },
		exited,
		waitFor(re) {
			const found = lines.find((line) => re.test(line));
			if (found) return Promise.resolve(found);
			return new Promise((resolve, reject) => {
				const w = { re, resolve };
				waiters.add(w);
				exited.then((code) => { if (waiters.delete(w)) reject(new Error(`exited ${code} before ${re}:\n${lines.join("\n")}\n${stderr}`)); });
			});
		},
		kill() { child.kill("SIGTERM"); return exited; },
	};
}
