/*
 * The cost bench's stand-in for Moddable's `timer`: timers are recorded, never fired, and
 * cost no host round trip. The bench measures per-message work, which needs no timer to fire.
 */
export default class Timer {
	static set(_callback: (timer: unknown) => void, _ms?: number, _interval?: number): object {
		return {};
	}
	static repeat(_callback: (timer: unknown) => void, _ms: number): object {
		return {};
	}
	static schedule(_timer: object, _ms?: number, _interval?: number): void {
	}
	static clear(_timer: object | undefined): void {
	}
	static delay(_ms: number): void {
	}
}
