// @ts-check
/**
 * The command line both hosts share (hosts/xs/run.mjs and hosts/xtensa/run.mjs):
 * `<app-dir> [key=value ...] [--until REGEX] [--timeout SECONDS]` plus each host's own
 * options, described by a table.
 */
import { parseConfigArg } from "./manifest.mjs";

/**
 * @typedef {{key: string, kind: "flag"} | {key: string, kind: "positive", what: string} | {key: string, kind: "choice", choices: string[]} | {key: string, kind: "path"}} OptionSpec
 */

/**
 * @param {string[]} argv
 * @param {{usage: string, options: Record<string, OptionSpec>}} spec
 * @returns {{appDir: string, config: Record<string, unknown>, until?: RegExp, timeout?: number, [key: string]: any}}
 */
export function parseRunArgs(argv, { usage, options }) {
	/** @type {{appDir?: string, config: Record<string, unknown>, until?: RegExp, timeout?: number, [key: string]: any}} */
	const args = { config: {} };
	for (const option of Object.values(options))
		if (option.kind === "flag")
			args[option.key] = false;
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const value = () => {
			if (i + 1 >= argv.length)
				throw new Error(`${arg} needs a value`);
			return argv[++i];
		};
		const option = options[arg];
		if (arg === "--until")
			args.until = new RegExp(value());
		else if (arg === "--timeout") {
			const seconds = Number(value());
			if (!(seconds > 0))
				throw new Error("--timeout needs a positive number of seconds");
			args.timeout = seconds;
		}
		else if (option?.kind === "flag")
			args[option.key] = true;
		else if (option?.kind === "positive") {
			const n = Number(value());
			if (!Number.isInteger(n) || n < 1)
				throw new Error(`${arg} needs a positive integer (${option.what})`);
			args[option.key] = n;
		}
		else if (option?.kind === "path")
			args[option.key] = value();
		else if (option?.kind === "choice") {
			const choice = value();
			if (!option.choices.includes(choice))
				throw new Error(`${arg} is one of ${option.choices.join(", ")}`);
			args[option.key] = choice;
		}
		else if (arg === "-h" || arg === "--help") {
			process.stdout.write(usage + "\n");
			process.exit(0);
		}
		else if (arg.startsWith("--"))
			throw new Error(`unknown option ${arg}`);
		else if (args.appDir === undefined && !arg.includes("="))
			args.appDir = arg;
		else {
			const [k, v] = parseConfigArg(arg);
			args.config[k] = v;
		}
	}
	if (args.appDir === undefined)
		throw new Error("missing <app-dir>");
	return /** @type {any} */ (args);
}
