/*
 * Preload emulation for the XS host. XS runs preloaded modules at build time and keeps what
 * they created in flash (ROM): class statics become read-only, JSON.stringify of such an
 * object throws "read only value", and module-level state either fails or silently costs
 * RAM. This module makes that strict: the app's main imports it FIRST (so it sees the
 * globals before any mqttc module runs), then imports the preloaded modules, then calls
 * romify() on their namespaces before anything else happens. romify freezes every object
 * reachable from their exports (functions, classes, prototypes, statics, constants), but
 * not the shared intrinsics (Object.prototype...), which belong to the host. From then on
 * any write to that state throws a TypeError in strict code (all module code is strict).
 * It also refuses new globals, and verify() finds exported bindings that changed (an
 * exported `let`). JSON.stringify is wrapped to throw, as XS does, when it meets a
 * preloaded object.
 *
 * Test code, not preloaded itself: its own module-level state is fine here.
 */

type Any = Record<PropertyKey, unknown>;

const globalsBefore = Reflect.ownKeys(globalThis);
const intrinsics = reachable([globalThis]);
const preloaded = new WeakSet<object>();
const bindings = new Map<string, Map<PropertyKey, unknown>>();

/** Everything reachable from `roots` through properties, accessors and prototypes. */
function reachable(roots: object[], skip?: Set<object>): Set<object> {
	const seen = new Set<object>();
	const stack = roots.slice();
	while (stack.length) {
		const object = stack.pop()!;
		if (seen.has(object) || skip?.has(object)) continue;
		seen.add(object);
		const proto = Reflect.getPrototypeOf(object);
		if (proto) stack.push(proto);
		for (const key of Reflect.ownKeys(object)) {
			const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
			if (!descriptor) continue;
			for (const value of [descriptor.value, descriptor.get, descriptor.set])
				if (value !== null && (typeof value === "object" || typeof value === "function")) stack.push(value as object);
		}
	}
	return seen;
}

export interface RomReport {
	modules: string[];
	frozen: number;
	violations: string[];
}

/** "Preloads" the given module namespaces: freezes what they can reach. */
export function romify(namespaces: Record<string, object>): RomReport {
	const violations: string[] = [];
	const roots: object[] = [];
	for (const [name, namespace] of Object.entries(namespaces)) {
		const values = new Map<PropertyKey, unknown>();
		for (const key of Reflect.ownKeys(namespace)) {
			if (key === Symbol.toStringTag) continue;
			const value = (namespace as Any)[key];
			values.set(key, value);
			if (value !== null && (typeof value === "object" || typeof value === "function")) roots.push(value as object);
		}
		bindings.set(name, values);
	}
	const objects = reachable(roots, intrinsics);
	for (const object of objects) {
		if (ArrayBuffer.isView(object) ? object.byteLength > 0 : object instanceof ArrayBuffer && object.byteLength > 0) {
			violations.push(`a buffer of ${(object as ArrayBuffer).byteLength} bytes is reachable from module scope (its bytes would be in flash)`);
			continue;
		}
		Object.freeze(object);
		preloaded.add(object);
	}
	const added = Reflect.ownKeys(globalThis).filter((key) => !globalsBefore.includes(key));
	for (const key of added) violations.push(`a preloaded module added the global ${String(key)}`);
	wrapStringify();
	wrapCollections();
	return { modules: Object.keys(namespaces), frozen: objects.size, violations };
}

/** Exported bindings whose value changed since romify (an exported let that was written). */
export function changedBindings(namespaces: Record<string, object>): string[] {
	const changed: string[] = [];
	for (const [name, namespace] of Object.entries(namespaces)) {
		const before = bindings.get(name);
		if (!before) continue;
		for (const [key, value] of before)
			if (!Object.is((namespace as Any)[key], value)) changed.push(`${name}: ${String(key)}`);
	}
	return changed;
}

/** Whether `value` was frozen as preloaded state. */
export function isPreloaded(value: object): boolean {
	return preloaded.has(value);
}

/** Object.freeze does not stop Map/Set/WeakMap/WeakSet methods: make them refuse too. */
function wrapCollections(): void {
	const methods: [object, string[]][] = [
		[Map.prototype, ["set", "delete", "clear"]], [Set.prototype, ["add", "delete", "clear"]],
		[WeakMap.prototype, ["set", "delete"]], [WeakSet.prototype, ["add", "delete"]],
	];
	for (const [proto, names] of methods) {
		for (const name of names) {
			const original = (proto as Any)[name] as (...args: unknown[]) => unknown;
			if ((original as unknown as Any).romWrapped) continue;
			const wrapped = function (this: object, ...args: unknown[]): unknown {
				if (preloaded.has(this)) throw new TypeError(`${name}: read only collection (created by a preloaded module)`);
				return original.apply(this, args);
			};
			Object.defineProperty(wrapped, "romWrapped", { value: true });
			Object.defineProperty(proto, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
		}
	}
}

function wrapStringify(): void {
	const stringify = JSON.stringify;
	if ((stringify as unknown as Any).romWrapped) return;
	const wrapped = function (value: unknown, replacer?: unknown, space?: string | number): string {
		const stack = [value];
		const seen = new Set<object>();
		while (stack.length) {
			const item = stack.pop();
			if (item === null || typeof item !== "object" || seen.has(item)) continue;
			seen.add(item);
			if (preloaded.has(item)) throw new TypeError("read only value (JSON.stringify of an object created by a preloaded module)");
			for (const key of Object.keys(item)) stack.push((item as Any)[key]);
		}
		return stringify(value, replacer as (string | number)[], space);
	};
	Object.defineProperty(wrapped, "romWrapped", { value: true });
	JSON.stringify = wrapped as typeof JSON.stringify;
}
