# MetaDJ Scope: set-up, run, test. Every target installs what it needs on a fresh
# Debian/Ubuntu machine first (apt packages, and Rust through rustup if cargo is missing).

SHELL := /bin/bash
.DEFAULT_GOAL := run

# Runtime (software Vulkan, X11 client libraries, a virtual display, ffmpeg for `play --record`
# and the benchmark) and build dependencies (C/C++ compiler for openh264, libclang for the
# camera crate's bindgen, libvpx for VP8, ALSA headers for MIDI).
APT_PACKAGES := build-essential pkg-config curl ca-certificates \
	mesa-vulkan-drivers libvulkan1 xvfb xauth ffmpeg \
	libx11-6 libx11-xcb1 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0 \
	libclang-dev nasm libvpx-dev libasound2-dev
# The benchmark needs nothing beyond the runtime packages (ffmpeg is one of them now).
BENCH_PACKAGES :=

SHOW ?= scenes/demo.ron
# `sudo` only when not already root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CARGO := $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)

.PHONY: run test check bench deps bench-deps rust

## Install missing Debian packages.
deps:
	@$(MAKE) --no-print-directory apt PKGS="$(APT_PACKAGES)"
	@$(MAKE) --no-print-directory rust

bench-deps: deps
	@$(MAKE) --no-print-directory apt PKGS="$(BENCH_PACKAGES)"

.PHONY: apt
apt:
	@missing=""; for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

## Rust through rustup when there is no cargo (the toolchain version comes from Cargo.toml).
rust:
	@if ! [ -x "$(CARGO)" ]; then \
		echo "installing Rust (rustup)"; \
		curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy; \
	fi

## Build and open the demo show (under a virtual X display when there is none; with a private
## XDG_RUNTIME_DIR when the session has none, which Mesa and winit want).
run: deps
	$(CARGO) build
	@runtime=""; \
	if [ -z "$$XDG_RUNTIME_DIR" ]; then \
		runtime=$$(mktemp -d) && chmod 700 "$$runtime" && export XDG_RUNTIME_DIR="$$runtime"; \
	fi; \
	if [ -n "$$DISPLAY" ]; then \
		$(CARGO) run -- play $(SHOW); \
	else \
		echo "no DISPLAY: playing under xvfb-run (a virtual screen)"; \
		xvfb-run -a -s "-screen 0 1920x1080x24" $(CARGO) run -- play $(SHOW); \
	fi; \
	status=$$?; [ -z "$$runtime" ] || rm -rf "$$runtime"; exit $$status

## All tests. Mesa wants XDG_RUNTIME_DIR; a private temp dir keeps it quiet.
test: deps
	@runtime=$$(mktemp -d) && chmod 700 "$$runtime" && \
	XDG_RUNTIME_DIR="$$runtime" $(CARGO) test --workspace; \
	status=$$?; rm -rf "$$runtime"; exit $$status

## Formatting and lints, as CI runs them.
check: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Compositing benchmark against ffmpeg (release build); results go to BENCHMARKS.md by hand.
bench: bench-deps
	@runtime=$$(mktemp -d) && chmod 700 "$$runtime" && \
	XDG_RUNTIME_DIR="$$runtime" $(CARGO) run --release -- bench; \
	status=$$?; rm -rf "$$runtime"; exit $$status
