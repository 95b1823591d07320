#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh machine: the npm packages (the XS
# engine is compiled by @agoric/xsnap's install step) and, as root, Debian's mosquitto,
# mosquitto-clients and openssl. Idempotent: does nothing when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/@agoric/xsnap/xsnap-native/xsnap/build/bin/lin/release/xsnap-worker ] \
	|| [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "install: npm ci (compiles the XS engine, about a minute)"
	npm ci --no-audit --no-fund
fi

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "install: apt-get install ${need[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq "${need[@]}" >/dev/null
	else
		echo "install: missing ${need[*]}: install them (sudo apt-get install ${need[*]}) and run again" >&2
		exit 1
	fi
fi
