/*
 * Names the type checker of the repository's tsconfig.json cannot resolve on its own (it
 * maps only mqttc/*): this app's "rom" and "fixture/mutable" modules (rom.ts and
 * fixtures/mutable.ts, whose exports these mirror).
 */
declare module "rom" {
	export interface RomReport {
		modules: string[];
		frozen: number;
		violations: string[];
	}
	export function romify(namespaces: Record<string, object>): RomReport;
	export function changedBindings(namespaces: Record<string, object>): string[];
	export function isPreloaded(value: object): boolean;
}

declare module "fixture/mutable" {
	export const stats: { sent: number };
	export class Registry {
		static instances: Set<Registry>;
		static readonly VERSION: 1;
		count: number;
	}
	export function next(): number;
	export function local(): number;
}
