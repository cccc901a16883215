# kubewire's build and checks. `make test` is what CI runs (see .ci/run).
GO            ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN           := $(CURDIR)/bin
FUZZTIME      ?= 5s
# The end-to-end tests build the lab (a real kube-apiserver) on first use:
# about 13 minutes cold on 2 cores, seconds when Go's build cache has it.
TEST_TIMEOUT  ?= 60m

.PHONY: all build test check fmt-check vet staticcheck cross unit fuzz lab-build bench lesson-recordings clean

all: build

build:
	$(GO) build -o $(BIN)/kubewire ./cmd/kubewire

test: check cross lab-build unit fuzz

check: fmt-check vet staticcheck

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	cd lab && $(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

# kubewire builds for the laptops learners bring (the lab itself runs on
# Linux and macOS; on Windows it explains what to use instead).
# Every target builds; one per other OS is vetted too (tests included),
# which catches OS-specific code without compiling everything five times.
CROSS := darwin/amd64 darwin/arm64 windows/amd64 windows/arm64 linux/arm64
cross:
	@for t in $(CROSS); do echo "build $$t"; \
	  GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build -o /dev/null ./cmd/kubewire || exit 1; done
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./...

# Build the lab binaries first, with visible progress, so the tests do not
# spend their time limit compiling Kubernetes.
lab-build:
	$(GO) run ./cmd/kubewire lab build

unit:
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime $(FUZZTIME) ./tracer/classify
	$(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) ./tracer/record
	$(GO) test -run '^$$' -fuzz '^FuzzJSONString$$' -fuzztime $(FUZZTIME) ./tracer/record
	$(GO) test -run '^$$' -fuzz '^FuzzWebSocket$$' -fuzztime $(FUZZTIME) ./tracer/proxy
	$(GO) test -run '^$$' -fuzz '^FuzzBody$$' -fuzztime $(FUZZTIME) ./tracer/redact
	$(GO) test -run '^$$' -fuzz '^FuzzListAsAWhole$$' -fuzztime $(FUZZTIME) ./tracer/redact
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./tracer/filter

# The benchmark harness (docs/performance.md), not part of test: it starts
# its own lab on free ports and measures the built kubewire against the API
# server directly, kubectl proxy and mitmproxy. BENCH_FLAGS=-quick tries it
# in a few minutes; -o DIR says where the results go.
BENCH_FLAGS ?=
bench: build
	$(GO) run ./cmd/kubewire-bench -kubewire $(BIN)/kubewire $(BENCH_FLAGS)

# The bundled lessons' recordings (docs/lessons.md), not part of test: each
# lesson runs on the lab and is recorded only when every check passed; the
# second step rebuilds kubewire with the new recordings embedded and checks
# every lesson offline against them.
lesson-recordings:
	$(GO) run ./cmd/kubewire lesson record --all --lab --out lessons/recordings
	$(GO) run ./cmd/kubewire lesson check --all --offline

clean:
	rm -rf $(BIN)
