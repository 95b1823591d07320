/*
 * The bench's stand-in for the SDK's `logical` (mqttc/ws masks its frames with Logical.xor):
 * a call that does nothing, as cheap to the meter as a native call, so that the bench counts
 * the client's work and not the XS host's model of the native one. The bench socket does not
 * look at what it is given, so the unmasked bytes change nothing.
 */
export default class Logical {
	static xor(): void {
	}
}
