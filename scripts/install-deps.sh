#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh machine: the npm packages (the XS
# engine is compiled by @agoric/xsnap's install step) and, as root, Debian's mosquitto,
# mosquitto-clients, openssl, rabbitmq-server (the tests start their own nodes; the
# system service is kept from starting) and the Xtensa tier's QEMU and lx106 toolchain.
# Idempotent: does nothing when everything is there.
#
#   scripts/install-deps.sh          everything `make test` needs
#   scripts/install-deps.sh --npm    only the npm packages (what `make demo` needs: Node, npm,
#                                    and the C compiler and make that build the XS engine;
#                                    no apt, no root, any OS the engine builds on)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker ] \
	|| [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "install: npm ci (compiles the XS engine, about a minute)"
	npm ci --no-audit --no-fund
fi
[ "${1:-}" = "--npm" ] && exit 0

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
# The Xtensa tier (hosts/xtensa): QEMU, the lx106 toolchain, picolibc and gcc's libgcc sources.
command -v qemu-system-xtensa >/dev/null 2>&1 || need+=(qemu-system-misc)
command -v xtensa-lx106-elf-gcc >/dev/null 2>&1 || need+=(gcc-xtensa-lx106 binutils-xtensa-lx106)
[ -f /usr/lib/xtensa-lx106-elf/picolibc.specs ] || need+=(picolibc-xtensa-lx106-elf)
[ -f /usr/src/gcc-12/gcc-12.2.0-dfsg.tar.xz ] || need+=(gcc-12-source)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "install: apt-get install ${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		# Debian starts a package's service on install; a system RabbitMQ (and mosquitto) would
		# hold ports and run for nothing: the tests start their own brokers. policy-rc.d 101
		# forbids the start (only when no policy exists already: then it is left alone).
		policy=/usr/sbin/policy-rc.d
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy"
			chmod 755 "$policy"
			trap 'rm -f "$policy"' EXIT
		fi
		apt-get update -qq
		apt-get install -y -qq "${need[@]}" >/dev/null
		# Under systemd the unit may still have been started (or be started at boot): stop it.
		if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
			systemctl disable --now rabbitmq-server >/dev/null 2>&1 || true
		fi
	else
		echo "install: missing ${need[*]}: install them (sudo apt-get install ${need[*]}) and run again" >&2
		exit 1
	fi
fi
