# ferry's front door. The two commands a fresh Debian 12 machine needs:
#   make demo   install what is missing, build, run the end-to-end demo (scripts/demo.sh)
#   make test   install what is missing, build normal + ASan/UBSan, run the whole suite on both
# Also: make (release build of build/ferry), make install PREFIX=..., make check-format,
# make format, make cppcheck, make fuzz (longer fuzzing).

PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE ?= cmake
CTEST_ARGS ?=
FUZZ_SECONDS ?= 5

.PHONY: all build deps demo test test-normal test-asan install check-format format cppcheck \
	fuzz ci clean

all: build

deps:
	@bash scripts/deps.sh

build:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFERRY_WERROR=$(if $(WERROR),ON,OFF)
	$(CMAKE) --build $(BUILD) -j $(JOBS)

demo: deps build
	FERRY=$(CURDIR)/$(BUILD)/ferry bash scripts/demo.sh

test: deps test-normal test-asan

test-normal:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DFERRY_WERROR=ON
	$(CMAKE) --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# clang, so the same build also runs the fuzz targets under libFuzzer.
test-asan:
	CC=clang $(CMAKE) -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFERRY_WERROR=ON \
		-DFERRY_SANITIZE=ON -DFERRY_FUZZ=ON -DFERRY_FUZZ_SECONDS=$(FUZZ_SECONDS)
	$(CMAKE) --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

install: build
	$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

check-format:
	@bash scripts/check-format.sh

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

cppcheck:
	@bash scripts/cppcheck.sh

# Longer fuzzing than the suite's few seconds per target: make fuzz FUZZ_SECONDS=300
fuzz:
	$(MAKE) test-asan CTEST_ARGS="-L fuzz"

ci: deps check-format cppcheck test

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
