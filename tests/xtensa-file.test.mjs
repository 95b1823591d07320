// The Xtensa host's `file` and `crc` modules (hosts/xtensa/platform/file.c, crc.c): runs
// tests/apps/xtensa-file through hosts/xtensa/run.mjs, as a user would, and checks its traced
// results (the Linux simulator's File semantics, CRC check values) and the storage directory
// (--storage) afterwards. The first run builds the guest (cached in build/xtensa).
import { test, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildGuest } from "../hosts/xtensa/build.mjs";
import { ROOT, runXtensa } from "./lib/xtensa-run.mjs";

const APP = path.join(ROOT, "tests", "apps", "xtensa-file");

/** Run the app to "file done"; onLine sees each line as it arrives. */
async function run(args, onLine) {
	const app = runXtensa(APP, [...args, "--until", "^file done$", "--timeout", "60"], onLine);
	const code = await app.exited;
	return { code, lines: app.lines, stderr: app.stderr };
}

/** The value of the line "name ..." */
function value(lines, name) {
	const line = lines.find((l) => l.startsWith(name + " "));
	assert.ok(line !== undefined, `no "${name}" line in:\n${lines.join("\n")}`);
	return line.slice(name.length + 1);
}

function tmp() {
	return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "mqttc-xtensa-file-test-")));
}

before(async () => {
	await buildGuest();
});

test("file: lin semantics in --storage DIR, writes durable when write() returns, paths outside refused; crc: native CRC8/CRC16", async () => {
	const base = tmp();
	const storage = path.join(base, "storage");
	fs.mkdirSync(storage);
	fs.writeFileSync(path.join(storage, "records.log"), "stale");		// rename replaces it
	let durable;
	try {
		const result = await run(["--storage", storage], (line) => {
			// the app waits 500 ms after this line: the bytes must be in the file already
			if (line === "durable ")
				durable = fs.readFileSync(path.join(storage, "t.log"), "utf8");
		});
		assert.equal(result.code, 0, result.stderr);
		const root = storage + "/";
		const measured = ["crc16-1k-instructions", "file-1k-instructions"];
		assert.deepEqual(result.lines.filter((l) => !measured.some((m) => l.startsWith(m + " "))), [
			`root ${root}`,
			"written 11 11",
			"closed Error: closed",
			"durable ",
			"reopened 0 11",
			'read-all "rec1;rec2;\\nrec3;"',
			"read-count rec2;",
			"read-buffer 10,114",
			'read-clamped "ec3;"',
			"read-past-end Error: read past end of file",
			"typed-array TypeError: not an ArrayBuffer instance",
			"negative-position 16",
			"read-only Error: file write failed 16",
			"missing Error: file not found",
			"exists true false true",
			"rename true false",
			"rename-missing false",
			"rename-invalid Error: invalid to",
			"delete true false false",
			`outside-open Error: ${root}../outside.log: outside the storage directory`,
			"outside-exists Error: /etc/passwd: outside the storage directory",
			"outside-relative Error: records.log: outside the storage directory",
			`outside-rename Error: ${root}../moved.log: outside the storage directory`,
			"list ../ ./ records.log:16 sub/",
			"directory-deleted false",
			"crc16-ccitt 29b1",
			"crc16-reset undefined 29b1",
			"crc16-arc bb3d",
			"crc16-x25 906e",
			"crc8-smbus f4 true",
			"crc8-maxim a1",
			"crc-string TypeError: this is no buffer",
			"crc-closed SyntaxError: C: xsGetHostChunk: no host data",
			"file done",
		]);
		assert.equal(durable, "rec1;rec2;\n");

		// the storage directory afterwards: the renamed records, the 1 KB file, nothing else
		assert.deepEqual(fs.readdirSync(storage).sort(), ["kb.bin", "records.log"]);
		assert.equal(fs.readFileSync(path.join(storage, "records.log"), "utf8"), "rec1;rec2;\nrec3;");
		assert.deepEqual(fs.readFileSync(path.join(storage, "kb.bin")), Buffer.from(Array.from({ length: 1024 }, (_, i) => i & 0xFF)));
		assert.deepEqual(fs.readdirSync(base), ["storage"], "nothing written outside the storage directory");

		// native: one lookup a byte in C, not a JavaScript loop (about 12.6 k instructions)
		const [crcCount, crcValue] = value(result.lines, "crc16-1k-instructions").split(" ");
		assert.equal(crcValue, "758f");
		assert.ok(Number(crcCount) > 1024 && Number(crcCount) < 30_000, `CRC16 over 1 KB took ${crcCount} instructions`);
		const fileCount = Number(value(result.lines, "file-1k-instructions"));
		assert.ok(fileCount > 0 && fileCount < 30_000, `1 KB write+close took ${fileCount} instructions`);
	}
	finally {
		fs.rmSync(base, { recursive: true, force: true });
	}
});

test("--storage creates a missing directory and keeps it", async () => {
	const base = tmp();
	const storage = path.join(base, "new", "storage");
	try {
		const result = await run(["--storage", storage]);
		assert.equal(result.code, 0, result.stderr);
		assert.equal(value(result.lines, "root"), storage + "/");
		assert.equal(fs.readFileSync(path.join(storage, "records.log"), "utf8"), "rec1;rec2;\nrec3;");
	}
	finally {
		fs.rmSync(base, { recursive: true, force: true });
	}
});

test("without --storage, file.root is a fresh temporary directory, removed at the end", async () => {
	const result = await run([]);
	assert.equal(result.code, 0, result.stderr);
	const root = value(result.lines, "root");
	assert.match(root, /mqttc-xtensa-storage-[^/]+\/$/);
	assert.ok(!fs.existsSync(root), `${root} is left behind`);
});
