/*
 * `embedded:io/socket/tcp` for the cost bench (mqttc/io, setup({io})): the ECMA-419 TCP
 * stand-in the SDK client's bench uses (tests/apps/cost-sdk-419/benchnetwork.ts), so mqttc
 * over ECMA-419 and the SDK's ECMA-419 client are measured on the same socket.
 */
import { BenchTCP } from "cost-sdk/benchnetwork";

export default BenchTCP;
