/*
 * The SDK cost benches' stand-in for Moddable's `time`: both SDK clients import it for
 * keepalive bookkeeping only, which the benches never enable. Ticks stand still.
 */
export default class Time {
	static ticks = 0;
	static delta(start: number, end: number = Time.ticks): number {
		return end - start;
	}
}
