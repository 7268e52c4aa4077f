# The two commands a new user needs: `make run` and `make test` (see README.md).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
TEST_JOBS ?= $(shell echo $$(( $$(nproc) * 2 )))
CMAKE_FLAGS ?=
ifdef CI
  CMAKE_FLAGS += -DVEZA_WERROR=ON
endif
ifdef SANITIZE
  CMAKE_FLAGS += -DVEZA_SANITIZE=ON
endif

.PHONY: all setup configure build web run test bench fuzz fmt fmt-check clean

all: build

setup:
	@./scripts/setup

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Only the web app (web/dist); `build` includes it when npm is present.
web: configure
	@cmake --build $(BUILD_DIR) --target web

run: build
	./$(BUILD_DIR)/veza serve --listen 127.0.0.1:8080

# Unit, contract (every backend against real PostgreSQL, Redis, NATS and S3 servers) and
# functional tests (the real binary over HTTP). Ends with CTest's summary line.
test: build
	@scripts/test-services run -- ctest --test-dir $(BUILD_DIR) --output-on-failure \
		-j $(TEST_JOBS) --timeout 300

# Every bench/*/run (bench/README.md has the contract); the ratios go to docs/benchmarks.md.
bench: build
	@cmake --build $(BUILD_DIR) --target veza_chat_load
	@BUILD_DIR=$(BUILD_DIR) scripts/bench-all

# Every libFuzzer target in $(BUILD_DIR)/fuzz for FUZZ_SECONDS each (docs/security.md records
# the executions of a long run). Crashes fail the run and keep the input.
FUZZ_SECONDS ?= 60
fuzz: build
	@fuzz/run-all $(FUZZ_SECONDS) $(BUILD_DIR)

fmt:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

fmt-check:
	@git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD_DIR)
