// A TCP proxy on 127.0.0.1 in front of a broker that can sever a connection at a chosen
// packet: `decide(packet, direction, n)` returns "forward", "cut-after" (forward it, then
// cut both sides before anything else passes) or "cut-before" (cut without forwarding).
// direction is "up" (client → broker) or "down" (broker → client).
import net from "node:net";
import mqttPacket from "mqtt-packet";

export async function startCuttingProxy(brokerPort, decide) {
	const links = new Set();
	let cuts = 0;
	const server = net.createServer((client) => {
		const upstream = net.connect(brokerPort, "127.0.0.1");
		const link = { client, upstream, dead: false };
		links.add(link);
		const kill = () => {
			if (link.dead) return;
			link.dead = true;
			cuts++;
			client.destroy();
			upstream.destroy();
			links.delete(link);
		};
		const pipe = (from, to, direction) => {
			const parser = mqttPacket.parser({ protocolVersion: 4 });
			let count = 0;
			const queue = [];
			parser.on("packet", (packet) => queue.push(packet));
			from.on("data", (data) => {
				if (link.dead) return;
				// Re-frame: each whole packet is judged, then forwarded as mqtt-packet generates it.
				parser.parse(data);
				while (queue.length && !link.dead) {
					const packet = queue.shift();
					const verdict = decide(packet, direction, count++);
					if (verdict === "cut-before") return kill();
					if (verdict === "cut-after") {
						link.dead = true; // nothing else passes; cut once this packet is on its way
						to.write(mqttPacket.generate(packet), () => { link.dead = false; kill(); });
						return;
					}
					to.write(mqttPacket.generate(packet));
				}
			});
			from.on("error", kill);
			from.on("close", kill);
		};
		pipe(client, upstream, "up");
		pipe(upstream, client, "down");
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	return {
		port: server.address().port,
		get cuts() { return cuts; },
		/** Cuts every open connection now. */
		cutAll() { for (const link of [...links]) { link.client.destroy(); link.upstream.destroy(); links.delete(link); cuts++; } },
		async stop() {
			this.cutAll();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}
