/*
 * "mqttc/tls" in the npm package: an app built with mcpack opts in to TLS by importing it,
 *
 *   import "mqttc/tls";
 *
 * mcpack only carries what an app's imports reach, and the client loads both halves of TLS
 * with Modules.importNow (no static import, so that a plain app carries neither):
 * - "securesocket": imported here so that mcpack includes the SDK's TLS ($(MODDABLE)/modules/
 *   crypt/tls.json, which defines and preloads it);
 * - "mqttc/tls": the name mcpack gives the app's import of this file; its default export is
 *   mqttc/tls's, which is all the client takes from it.
 * The same as including manifest_tls.json in a manifest build. (Not compiled: copied into
 * dist/ by scripts/build-dist.mjs.)
 */
import "securesocket";
import tls from "./mqttc/tls.js";

export default tls;
