# The two commands of the README, and the few targets they are made of.
#   make demo  install what is missing, build, run the main job on the bundled example
#   make test  install, build with -Werror, run every test; then a CPU-only ASan+UBSan build runs
#              the C, CLI and smoke tests again
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
SAN_BUILD ?= build-asan
CMAKE ?= cmake
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: all deps build demo test test-main test-sanitize fixtures example clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(CMAKE) -S . -B $(BUILD) -DAV_WERROR=ON
	$(CMAKE) --build $(BUILD) -j $(JOBS)

# Until the trained default model exists (models/default), the demo converts with an untrained
# fixture model (random weights, exported once into the build directory) and says so.
FIXTURE_MODEL = $(BUILD)/fixture-model
demo: build
	@if [ -f models/default/model.yaml ]; then \
	  $(BUILD)/bin/autovoice demo; \
	else \
	  echo "make demo: models/default (the trained default model) is not there yet: converting with an"; \
	  echo "make demo: UNTRAINED fixture model (random weights) - the output shows that every step runs,"; \
	  echo "make demo: it is not meant to sound like singing."; \
	  [ -f $(FIXTURE_MODEL)/model.yaml ] || /usr/bin/python3 tools/export_onnx.py --preset small \
	    --random-init --seed 20261124 --speakers 4 --name untrained-fixture --out $(FIXTURE_MODEL) >/dev/null; \
	  $(BUILD)/bin/autovoice demo --model $(FIXTURE_MODEL); \
	fi

# Reaching the end means both passes passed (ctest fails the recipe otherwise); the last line
# is the combined total in ctest's summary format.
test: deps
	@$(MAKE) --no-print-directory test-main test-sanitize
	@echo "make test: build pass:     $$(grep -h 'tests passed' $(BUILD)/ctest-summary.log)"
	@echo "make test: sanitizer pass: $$(grep -h 'tests passed' $(SAN_BUILD)/ctest-summary.log)"
	@a=$$(grep -ho 'out of [0-9]*' $(BUILD)/ctest-summary.log | grep -o '[0-9]*'); \
	 b=$$(grep -ho 'out of [0-9]*' $(SAN_BUILD)/ctest-summary.log | grep -o '[0-9]*'); \
	 echo "100% tests passed, 0 tests failed out of $$((a + b))"

test-main:
	$(CMAKE) -S . -B $(BUILD) -DAV_WERROR=ON
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) | tee ctest-summary.log

# Second pass: CPU-only, sanitized. The Python tool tests exercise no C code and are not repeated.
test-sanitize:
	$(CMAKE) -S . -B $(SAN_BUILD) -DAV_WERROR=ON -DAV_CUDA=OFF -DAV_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	$(CMAKE) --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE tools | tee ctest-summary.log

# Regenerate the committed fixtures and the example input (both are deterministic).
fixtures: deps
	/usr/bin/python3 tools/make_fixtures.py

example: deps
	scripts/make-example.sh

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
