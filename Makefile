# aisle: offline-first retail assistant. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := .build/bin

.PHONY: help run test test-deps vet bench

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-14s %s\n", $$1, $$2}'

run: ## run the main job: the engine CLI on the bundled model (becomes the server once it exists)
	$(GO) run ./worker/cmd/slm generate -m worker/testdata/models/stories260K.gguf -p "Once upon a time" -n 128 --temp 0

test-deps: ## install what the tests need (Debian packages, npm test peers)
	bash deploy/setup/test-deps.sh

vet: ## static checks
	$(GO) vet ./...

test: test-deps vet ## install test dependencies, then run every test
	$(GO) test -count=1 -timeout 25m ./...
