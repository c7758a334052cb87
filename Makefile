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

.PHONY: all run build arm test lint unit bench clean image flash image-check boot-test fuzz
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

## bench: the figures quoted in the issues (see README "Performance")
bench: build arm
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./scripts/benchstart dist/tinkerbox
	$(GO) run ./scripts/benchspycam -duration $(SPYCAM_SECONDS)s -warmup 10s dist/tinkerbox
	@if command -v qemu-arm-static >/dev/null; then \
	  echo "card recognition under qemu-arm-static -cpu arm1176 (an emulated Pi Zero CPU, not a Pi):"; \
	  GOARCH=arm GOARM=6 $(GO) test -c -o dist/recog-armv6.test ./scenes/cardfeed/recog && \
	  qemu-arm-static -cpu arm1176 dist/recog-armv6.test -test.run '^$$' -test.bench 'Identify(30|100)k/frame$$' -test.benchtime 24x; \
	else echo "qemu-arm-static not installed: skipping the emulated Pi Zero figure (apt-get install qemu-user-static)"; fi
	@echo "comic: print sizes of the default pack's strips on 58 mm paper (384 dots, 8 a millimetre):"
	@$(GO) test -count=1 -run '^TestPrintSizes$$' -v ./scenes/comic/ | sed -n 's/^        //p'
	@if command -v qemu-arm-static >/dev/null; then \
	  echo "comic: press A -> first printed line under qemu-arm-static -cpu arm1176, one core (an emulated Pi Zero, not a Pi; the simulator's figure is BenchmarkComicPressToPaper above):"; \
	  GOARCH=arm GOARM=6 $(GO) test -c -o dist/appliance-armv6.test ./appliance && \
	  qemu-arm-static -cpu arm1176 dist/appliance-armv6.test -test.run '^$$' -test.bench 'ComicPressToPaper$$' -test.benchtime 12x -test.cpu 1; \
	  echo "comic: a sheet photographed by the camera -> its drawings in the pack, under qemu-arm-static -cpu arm1176, one core:"; \
	  qemu-arm-static -cpu arm1176 dist/appliance-armv6.test -test.run '^$$' -test.bench 'DrawingFromCamera$$' -test.benchtime 3x -test.cpu 1; \
	else echo "qemu-arm-static not installed: skipping the emulated Pi Zero press-to-paper figure (apt-get install qemu-user-static)"; fi
	@echo "Home Assistant over MQTT, against a real mosquitto (messages a minute, broker restart to entities back, an hour with the broker down):"; $(GO) test -count=1 -run '^TestFigure' -v ./appliance/homeassistant/ | sed -n 's/^ *figures_test.go:[0-9]*: /  /p'
	@echo "ARM binary sizes:"; ls -l $(ARM_BINS) | awk '{printf "  %-32s %6.1f MB\n", $$9, $$5/1048576}'
	@if $(PYTHON) -c 'import PIL' 2>/dev/null; then \
	  $(PYTHON) scripts/bench-pillow-dither.py drivers/escpos/testdata/bench.png; \
	else echo "python3-pil not installed: skipping the Pillow comparison (apt-get install python3-pil)"; fi

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
