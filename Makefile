# mqttc — see README.md. `make demo` and `make test` install what they need.
NODE ?= node
HELLO := hosts/examples/hello
ESP32_APP := hosts/esp32

.PHONY: all install install-npm build test bench bench-xtensa demo sim sim-log esp32 check-moddable clean pack

all: build

# Everything the tests need (npm, and as root Debian's brokers, QEMU and the Xtensa toolchain).
install:
	@scripts/install-deps.sh

# Only the npm packages: the demo needs nothing else (no apt, no root).
install-npm:
	@scripts/install-deps.sh --npm

build: install
	npx tsc -p tsconfig.json

test: build
	$(NODE) --test --test-concurrency=1 tests/

# Per-message cost on XS (compute units, slots) and, with $$MODDABLE, the bytecode size.
bench: build
	$(NODE) tests/cost.bench.mjs

# Guest instructions per MQTT message on the emulated Xtensa core (hosts/xtensa/README.md).
bench-xtensa: install
	$(NODE) tests/xtensa.bench.mjs

demo: install-npm
	$(NODE) hosts/demo/run-demo.mjs

check-moddable:
	@if [ -z "$$MODDABLE" ] || ! command -v mcconfig >/dev/null 2>&1; then \
		echo "make sim/esp32 need the Moddable SDK: install it by its Getting Started guide,"; \
		echo "set MODDABLE to its directory and put \$$MODDABLE/build/bin/<platform>/release on PATH."; \
		echo "Without it, run the same app on the real XS engine here: make demo"; \
		exit 2; \
	fi

# The example app in the Moddable simulator (Linux: -p lin; macOS/Windows: no -p). A debug
# build: its trace goes to xsbug, and the SDK's debug target first runs `pkill mcsim` and
# `pkill serial2xsbug`, ending every simulator and serial bridge on the machine.
sim: check-moddable
	cd $(HELLO) && mcconfig -d -m -p $${PLATFORM:-lin} host=$${MQTT_HOST:-127.0.0.1} port=$${MQTT_PORT:-1883}

# The same app as a release build on Linux, its trace on this terminal, no xsbug, nothing
# else ended; under xvfb when there is no display. mcsim never exits: stopped after
# SIM_SECONDS (default 30) or at the app's last line.
SIM_OUT := $(CURDIR)/build/sim
sim-log: check-moddable
	mkdir -p $(SIM_OUT)
	cd $(HELLO) && mcconfig -m -p lin -t build -o $(SIM_OUT) host=$${MQTT_HOST:-127.0.0.1} port=$${MQTT_PORT:-1883}
	$(NODE) hosts/sim-log.mjs $(SIM_OUT)/bin/lin/mc/release/hello/mc.so "hello: disconnected" $${SIM_SECONDS:-30}

# The device app on an ESP32 devkit: make esp32 SSID=... PASSWORD=... MQTT_HOST=<your broker>
esp32: check-moddable
	cd $(ESP32_APP) && mcconfig -d -m -p esp32 ssid="$(SSID)" password="$(PASSWORD)" host="$(MQTT_HOST)"

# The npm package for apps built with mcpack (docs/npm-package.md): mqttc-<version>.tgz here.
pack: install-npm
	npm pack

clean:
	rm -rf build dist
