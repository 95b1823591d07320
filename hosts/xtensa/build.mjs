// @ts-check
/**
 * Builds the Xtensa guest on demand: the XS engine from the C sources inside our
 * @agoric/xsnap dependency, our platform layer (platform/*.c), and the libgcc pieces
 * Debian's lx106 toolchain leaves to the ESP8266 ROM (assembled from gcc-12-source's
 * libgcc/config/xtensa files), linked for QEMU's `sim` machine with the lx106 core.
 *
 *   node hosts/xtensa/build.mjs        # prints the ELF's path
 *
 * The result is cached in build/xtensa/ and rebuilt only when an input changes.
 */
import { execFile, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const PLATFORM = path.join(HERE, "platform");
const OUT = path.join(ROOT, "build", "xtensa");
export const ELF = path.join(OUT, "xs.elf");

const CC = "xtensa-lx106-elf-gcc";
const AR = "xtensa-lx106-elf-ar";
const SPECS = "/usr/lib/xtensa-lx106-elf/picolibc.specs";
const XTENSA_CONFIG = "/usr/lib/gcc/xtensa-lx106-elf/12.2.0/plugin/include";
const GCC_SOURCE = "/usr/src/gcc-12/gcc-12.2.0-dfsg.tar.xz";

/** libgcc entry points Debian's lx106 libgcc lacks, by the L_ name that assembles them. */
const LIBGCC_PIECES = ["udivsi3", "divsi3", "umodsi3", "umulsidi3", "addsubsf3", "mulsf3",
	"addsubdf3", "muldf3", "divdf3", "fixdfsi", "fixunsdfsi", "fixunssfsi", "floatsidf",
	"floatsisf", "truncdfsf2", "extendsfdf2"];

/** XS sources the guest needs (the whole engine but snapshots). */
function xsSources(xsDir) {
	return fs.readdirSync(path.join(xsDir, "sources"))
		.filter(name => name.endsWith(".c") && name !== "xsSnapshot.c")
		.sort()
		.map(name => path.join(xsDir, "sources", name));
}

const C_FLAGS = ["-specs=" + SPECS, "-Os", "-g0", "-mlongcalls", "-ffunction-sections", "-fdata-sections",
	"-DINCLUDE_XSPLATFORM", "-DXSPLATFORM=\"sim_xs.h\"", "-DmxParse=1", "-DmxRun=1", "-DmxNoConsole=1",
	"-DmxRegExpUnicodePropertyEscapes=1", "-DmxUnalignedAccess=0", "-DmxBoundsCheck=1", "-Wno-unused-result"];

function xsDirectory() {
	const dir = path.join(ROOT, "node_modules", "@agoric", "xsnap", "moddable", "xs");
	if (!fs.existsSync(path.join(dir, "sources", "xsAll.c")))
		throw new Error(`XS sources not found in ${dir}: run scripts/install-deps.sh (npm ci)`);
	return dir;
}

function requireTools() {
	for (const [tool, pkg] of [[CC, "gcc-xtensa-lx106"], ["qemu-system-xtensa", "qemu-system-misc"]]) {
		try {
			execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
		}
		catch {
			throw new Error(`${tool} not found: install ${pkg} (scripts/install-deps.sh does)`);
		}
	}
	if (!fs.existsSync(SPECS))
		throw new Error(`${SPECS} not found: install picolibc-xtensa-lx106-elf`);
	if (!fs.existsSync(GCC_SOURCE))
		throw new Error(`${GCC_SOURCE} not found: install gcc-12-source`);
}

/** @param {string[]} files */
function hashInputs(files) {
	const hash = crypto.createHash("sha256");
	hash.update(JSON.stringify({ C_FLAGS, LIBGCC_PIECES }));
	for (const file of files) {
		hash.update(file);
		hash.update(fs.readFileSync(file));
	}
	return hash.digest("hex");
}

/**
 * @param {string} command @param {string[]} args @param {string} [cwd]
 * @returns {Promise<void>}
 */
function run(command, args, cwd) {
	return new Promise((resolve, reject) => {
		execFile(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
			if (error)
				reject(new Error(`${command} ${args.join(" ")}\n${stderr || stdout || error.message}`));
			else
				resolve();
		});
	});
}

/** Compile to a temporary name first, so an interrupted build leaves no broken object. @param {string[]} args @param {string} object */
async function compile(args, object) {
	await run(CC, [...args, "-o", object + ".tmp"]);
	fs.renameSync(object + ".tmp", object);
}

/** Run jobs with at most `limit` at once. @param {(() => Promise<void>)[]} jobs @param {number} limit */
async function parallel(jobs, limit) {
	let next = 0;
	const worker = async () => {
		while (next < jobs.length)
			await jobs[next++]();
	};
	await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/** libgcc's Xtensa assembly sources, extracted once from Debian's gcc-12-source tarball. */
async function libgccSources() {
	const dir = path.join(OUT, "gcc", "libgcc", "config", "xtensa");
	if (!fs.existsSync(path.join(dir, "ieee754-sf.S"))) {
		const tmp = path.join(OUT, "gcc-tmp");
		fs.rmSync(tmp, { recursive: true, force: true });
		fs.mkdirSync(tmp, { recursive: true });
		await run("tar", ["xJf", GCC_SOURCE, "--wildcards", "--strip-components=1", "*/libgcc/config/xtensa/*"], tmp);
		fs.rmSync(path.join(OUT, "gcc"), { recursive: true, force: true });
		fs.renameSync(tmp, path.join(OUT, "gcc"));
	}
	return dir;
}

/**
 * Build the ELF if it is missing or stale. Resolves to its path.
 * @param {{log?: (line: string) => void}} [options]
 */
export async function buildGuest(options = {}) {
	const log = options.log ?? (() => {});
	requireTools();
	const xsDir = xsDirectory();
	const platformC = fs.readdirSync(PLATFORM).filter(name => name.endsWith(".c")).sort().map(name => path.join(PLATFORM, name));
	const platformOther = fs.readdirSync(PLATFORM).filter(name => !name.endsWith(".c")).sort().map(name => path.join(PLATFORM, name));
	const sources = [...xsSources(xsDir), ...platformC];
	const headers = [...fs.readdirSync(path.join(xsDir, "sources")).filter(n => n.endsWith(".h")).map(n => path.join(xsDir, "sources", n)),
		path.join(xsDir, "includes", "xs.h"), path.join(xsDir, "includes", "xsmc.h"), path.join(xsDir, "platforms", "xsPlatform.h")];
	const stamp = hashInputs([...sources, ...headers, ...platformOther, fileURLToPath(import.meta.url)]);
	const stampFile = ELF + ".hash";
	if (fs.existsSync(ELF) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === stamp)
		return ELF;
	const started = Date.now();
	log("xtensa host: building the guest (XS for lx106), about a minute");
	const objDir = path.join(OUT, "obj");
	fs.mkdirSync(objDir, { recursive: true });
	// objects are named by a hash of what makes them, so an edit recompiles only its file
	const common = hashInputs([...headers, ...platformOther.filter(f => f.endsWith(".h"))]).slice(0, 12);
	const objectName = (/** @type {string} */ source, /** @type {string} */ extra = "") =>
		path.join(objDir, `${path.basename(source).replace(/\.[cS]$/, "")}${extra}-${hashInputs([source]).slice(0, 8)}${common}.o`);
	const wanted = new Set();
	const includes = ["-I" + path.join(xsDir, "includes"), "-I" + path.join(xsDir, "sources"),
		"-I" + path.join(xsDir, "platforms"), "-I" + PLATFORM];
	/** @type {(() => Promise<void>)[]} */
	const jobs = [];
	/** @type {string[]} */
	const objects = [];
	for (const source of sources) {
		const object = objectName(source);
		objects.push(object);
		wanted.add(object);
		if (!fs.existsSync(object))
			jobs.push(() => compile([...C_FLAGS, ...includes, "-c", source], object));
	}
	const reset = objectName(path.join(PLATFORM, "reset.S"));
	objects.unshift(reset);
	wanted.add(reset);
	if (!fs.existsSync(reset))
		jobs.push(() => compile(["-specs=" + SPECS, "-mlongcalls", "-Wa,--text-section-literals", "-c", path.join(PLATFORM, "reset.S")], reset));
	const gccDir = await libgccSources();
	/** @type {string[]} */
	const pieces = [];
	for (const name of LIBGCC_PIECES) {
		const object = objectName(path.join(gccDir, "lib1funcs.S"), "_" + name);
		pieces.push(object);
		wanted.add(object);
		if (!fs.existsSync(object))
			jobs.push(() => compile(["-specs=" + SPECS, "-mlongcalls", "-I" + XTENSA_CONFIG, "-I" + gccDir, `-DL_${name}`,
				"-c", path.join(gccDir, "lib1funcs.S")], object));
	}
	await parallel(jobs, Math.max(1, Math.min(os.cpus().length, 4)));
	for (const name of fs.readdirSync(objDir))
		if (name.endsWith(".o") && !wanted.has(path.join(objDir, name)))
			fs.rmSync(path.join(objDir, name));
	const archive = path.join(objDir, "libgcc-extra.a");
	fs.rmSync(archive, { force: true });
	await run(AR, ["rcs", archive, ...pieces]);
	fs.mkdirSync(OUT, { recursive: true });
	const tmpElf = ELF + ".tmp";
	await run(CC, ["-specs=" + SPECS, "-nostartfiles", "-mlongcalls", "-Wl,--gc-sections", "-T", path.join(PLATFORM, "link.ld"),
		...objects, "-Wl,--start-group", archive, "-lm", "-lc", "-lgcc", "-Wl,--end-group", "-o", tmpElf]);
	fs.renameSync(tmpElf, ELF);
	fs.writeFileSync(stampFile, stamp);
	log(`xtensa host: guest built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
	return ELF;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	try {
		process.stdout.write(await buildGuest({ log: line => process.stderr.write(line + "\n") }) + "\n");
	}
	catch (e) {
		process.stderr.write(`${/** @type {Error} */ (e).message}\n`);
		process.exit(2);
	}
}
