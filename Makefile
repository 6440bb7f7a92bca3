# aisle: offline-first retail assistant. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := .build/bin

.PHONY: help run app edge test test-deps vet bench-cpu bench-browser bench-gpu slm eval

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-14s %s\n", $$1, $$2}'

DATA  ?= .build/data

run: app ## run the main job: the server with the demo store, the offline app and the bundled model on 127.0.0.1:8080
	$(GO) run ./api/cmd/aisle-server -app .build/pwa -models .build/models -db $(DATA)/aisle.db -admin-token-file $(DATA)/admin-token

app: ## build the web app (page, Go-WASM service worker and inference worker) and publish the bundled model
	$(GO) run ./pwa/cmd/build -out .build/pwa
	$(GO) run ./worker/cmd/publish -root .build/models -id aisle-assistant worker/assistant/model/aisle-assistant.gguf >/dev/null

EDGE ?= .build/edge
edge: ## build the edge read replica's Worker into .build/edge (deploy/edge.md: run wrangler there)
	rm -rf $(EDGE) && mkdir -p $(EDGE)
	cp api/cmd/aisle-edge/wrangler.toml api/cmd/aisle-edge/edge.mjs $(EDGE)/
	$(GO) run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o $(EDGE)/build
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(EDGE)/build/app.wasm ./api/cmd/aisle-edge

test-deps: ## install what the tests need (Debian packages, npm test peers)
	bash deploy/setup/test-deps.sh

vet: ## static checks, native and for the browser (js/wasm)
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./sw/... ./worker/browser/... ./worker/model/... ./worker/engine/... ./sync/... ./api/cmd/aisle-edge

# worker/gpu runs after the others, alone: Mesa's lavapipe (the software Vulkan its tests use
# without a GPU) crashes its queue thread when the machine is busy (see worker/gpu/main_test.go).
test: test-deps vet ## install test dependencies, then run every test
	CI=$${CI:-true} $(GO) test -count=1 -timeout 25m $$($(GO) list ./... | grep -v -x 'aisle/worker/gpu')
	CI=$${CI:-true} $(GO) test -count=1 -timeout 25m ./worker/gpu

slm: ## build the engine CLI into .build/bin/slm
	$(GO) build -o $(BIN)/slm ./worker/cmd/slm

EVAL_SETS ?= eval eval-independent
eval: slm ## score the store assistant on its evaluation sets (MODEL=file.gguf phrases with a model; SLM_ARGS=--no-constraint)
	@for d in $(EVAL_SETS); do echo "## worker/assistant/testdata/$$d"; \
	  $(GO) run ./worker/assistant/eval/cmd/aisle-eval -slm $(BIN)/slm $(if $(MODEL),-m $(MODEL)) -slm-args "$(SLM_ARGS)" -dir worker/assistant/testdata/$$d -failures 20 || exit $$?; done

bench-cpu: test-deps slm ## slm bench beside llama.cpp on SmolLM2-135M-shaped Q8_0 and Q4_K models
	$(GO) run ./worker/internal/cmd/cpubench --slm $(BIN)/slm --models .build/bench --rounds 3 --threads 2,1

# bench-browser's flags: -compare.reps, -compare.prompt (tokens), -compare.tokens (generated),
# -compare.threads (default 1 and the machine's cores), -compare.models (GGUF files, comma-separated).
BENCH_BROWSER_ARGS ?= -compare.reps 3 -compare.prompt 32 -compare.tokens 32
bench-browser: ## the app's engine beside @wllama/wllama in one headless Chromium: a JSON line per model and thread count (progress on stderr)
	@bash deploy/setup/test-deps.sh >&2
	@mkdir -p .build/bench && rm -f .build/bench/browser.jsonl
	@$(GO) test -v -count=1 -run '^TestBrowserCompare$$' -timeout 2h ./pwa -args -compare \
	  -compare.dir $(CURDIR)/.build/bench -compare.out $(CURDIR)/.build/bench/browser.jsonl $(BENCH_BROWSER_ARGS) >&2
	@cat .build/bench/browser.jsonl
