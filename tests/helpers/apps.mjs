// Temporary Moddable app directories for host tests, and running the XS host CLI.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const RUN = path.join(REPO, "hosts/xs/run.mjs");

/**
 * Write an app into a fresh temporary directory. `files` maps relative paths to
 * contents (objects are written as JSON). Without a manifest.json, one with
 * {"modules": {"*": ["./main"]}} is added.
 * @param {Record<string, string | object>} files
 * @returns {{dir: string, cleanup: () => void}}
 */
export function makeApp(files) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xs-host-app-"));
	const all = { ...files };
	if (!("manifest.json" in all))
		all["manifest.json"] = { modules: { "*": ["./main"] } };
	for (const [name, content] of Object.entries(all)) {
		const file = path.join(dir, name);
		fs.mkdirSync(path.dirname(file), { recursive: true });
		fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, "\t"));
	}
	return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Run the XS host CLI; resolves {code, signal, stdout, stderr}. Killed after `timeout` ms.
 * @param {string[]} args
 * @param {{timeout?: number, env?: NodeJS.ProcessEnv}} [options]
 */
export function runHost(args, { timeout = 20000, env = process.env } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [RUN, ...args], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "", stderr = "";
		child.stdout.on("data", d => { stdout += d; });
		child.stderr.on("data", d => { stderr += d; });
		const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
		child.on("error", reject);
		child.on("close", (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout, stderr });
		});
	});
}
