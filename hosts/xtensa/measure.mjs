#!/usr/bin/env node
// @ts-check
/**
 * node hosts/xtensa/measure.mjs <app-dir> --until REGEX [key=value ...] [--virtual-time]
 *
 * Finds the smallest creation.stack (slots) and creation.static (bytes) with which the app
 * still reaches --until on the Xtensa host, by bisection (each try is a full run: a
 * stack overflow or memory full fails it). The stack is searched with a large heap, then
 * the heap with the stack found. Needs whatever the app connects to (e.g. a broker).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const RUN = path.join(path.dirname(fileURLToPath(import.meta.url)), "run.mjs");
const args = process.argv.slice(2);
if (!args.includes("--until")) {
	process.stderr.write("usage: node hosts/xtensa/measure.mjs <app-dir> --until REGEX [key=value ...] [--virtual-time]\n");
	process.exit(2);
}

/** @param {string[]} extra */
function passes(extra) {
	const result = spawnSync(process.execPath, [RUN, ...args, "--timeout", "60", ...extra], { encoding: "utf8" });
	return result.status === 0;
}

/** Smallest n in [low, high] for which ok(n), assuming ok is monotonic and ok(high). @param {number} low @param {number} high @param {(n: number) => boolean} ok @param {number} step */
function bisect(low, high, ok, step) {
	while (high - low > step) {
		const mid = Math.floor((low + high) / 2 / step) * step;
		if (mid <= low)
			break;
		if (ok(mid))
			high = mid;
		else
			low = mid;
	}
	return high;
}

const BIG_HEAP = 1024 * 1024;
if (!passes(["--heap", String(BIG_HEAP), "--stack", "4096"])) {
	process.stderr.write("the app does not reach --until even with a 1 MB heap and 4096 stack slots\n");
	process.exit(1);
}
const stack = bisect(16, 4096, n => passes(["--heap", String(BIG_HEAP), "--stack", String(n)]), 1);
const heap = bisect(1024, BIG_HEAP, n => passes(["--heap", String(n), "--stack", String(stack)]), 256);
process.stdout.write(`minimum stack ${stack} slots, minimum heap ${heap} bytes (creation.static, stack included)\n`);
