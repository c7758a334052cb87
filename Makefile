# tinkerbox — see README.md. `make run` and `make test` work on a fresh machine
# with Go installed; `.ci/run` also installs the Debian packages the tests use.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOBUILD  := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
LISTEN   ?= 127.0.0.1:8080
SPYCAM_SECONDS ?= 60
DATA     ?= ./data
# Debian's python3 has python3-pil; a pyenv python3 earlier on PATH may not.
PYTHON   ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)
ARM_BINS := dist/tinkerbox-linux-armv6 dist/tinkerbox-linux-armv7 dist/tinkerbox-linux-arm64

.PHONY: all run build arm test lint unit bench bench-arm clean image flash image-check boot-test fuzz
BOARD    ?= pi0w
IMAGE    ?= dist/tinkerbox-$(BOARD).img.xz

all: build

## run: the appliance in simulation; open the printed URL for the front panel (LISTEN=addr:port, DATA=dir)
run: build
	@echo "starting the simulator on http://$(LISTEN)/ with its data in $(DATA) (choose with make run LISTEN=0.0.0.0:8080 DATA=dir)"
	./dist/tinkerbox run --sim --listen $(LISTEN) --data $(DATA)

## build: the binary for this computer, in dist/
build:
	@[ -x dist/tinkerbox ] || echo "building dist/tinkerbox: the first build downloads and compiles the dependencies (a minute or two)..."
	$(GOBUILD) -o dist/tinkerbox .

## arm: static binaries for the Pi Zero/1 (armv6), Pi 2/3 (armv7) and 64-bit Pis
arm:
	GOOS=linux GOARCH=arm GOARM=6 $(GOBUILD) -o dist/tinkerbox-linux-armv6 .
	GOOS=linux GOARCH=arm GOARM=7 $(GOBUILD) -o dist/tinkerbox-linux-armv7 .
	GOOS=linux GOARCH=arm64 $(GOBUILD) -o dist/tinkerbox-linux-arm64 .

## test: every check and test (formatting, vet, layering, ARM builds under qemu, browser, the image booted under QEMU)
test: lint arm image-check boot-test
	$(GO) test -count=1 ./...
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## fuzz: every fuzz target for FUZZTIME (default 5s) with a short minimisation; make fuzz FUZZTIME=5m for a long run
FUZZTIME ?= 5s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt: not formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run ./scripts/layercheck .
	@if command -v shellcheck >/dev/null; then \
	  files=$$(git ls-files '*.sh' .ci/run 2>/dev/null); \
	  [ -z "$$files" ] || shellcheck $$files; \
	else echo "shellcheck not installed: skipping shell checks"; fi

## bench: one table of the issue 18 figures, each beside its anchor measured in the same run (about 11 min; BENCH_ONLY=dither,identify for a subset; README=1 rewrites README.md's figures table)
BENCH_FLAGS = $(if $(BENCH_ONLY),-only $(BENCH_ONLY)) $(if $(README),-readme README.md)
bench: build arm
	$(GO) run ./scripts/benchtable -python $(PYTHON) -spycam $(SPYCAM_SECONDS)s $(BENCH_FLAGS)

## bench-arm: the Go benchmarks under qemu-arm-static -cpu arm1176, one core, as ratios to the native run (README=1 rewrites README.md's ARM table)
bench-arm:
	$(GO) run ./scripts/benchtable -arm $(BENCH_FLAGS)

## image: the SD-card image dist/tinkerbox-$(BOARD).img.xz (BOARD=pi0w|pi3|pi02w|pi02w_64|pi4_64); needs network, ~1 h the first time
image:
	scripts/build-image.sh $(BOARD)

## flash: write IMAGE to the SD card DEV (asks first): make flash IMAGE=dist/tinkerbox-pi0w.img.xz DEV=/dev/sdX
flash:
	@[ -n "$(DEV)" ] || { echo "usage: make flash IMAGE=dist/tinkerbox-<board>.img.xz DEV=/dev/sdX"; exit 2; }
	sudo scripts/flash.sh $(IMAGE) $(DEV)

## image-check: assemble and inspect the SD image offline (genimage), test the init scripts and flash.sh
image-check: arm
	scripts/image-check.sh dist/tinkerbox-linux-armv6
	scripts/firstboot_test.sh
	scripts/flash_test.sh

## boot-test: build the pi4_64 SD image from this repo and boot it under qemu-system-aarch64 (first boot, power cut, reboot, poweroff); caches in .cache/boot-test
boot-test: arm
	scripts/boot-test.sh dist/tinkerbox-linux-arm64

clean:
	rm -rf dist output
