# birdwatch: `make demo` runs the main job on the embedded default; `make test` runs the tests.
# Both install what they need from Debian (prometheus, git) when it is missing, and say so.

GO          ?= go
BIN         := bin/birdwatch
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 9m

.PHONY: build demo test unit bench lint fixtures fuzz deps clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/birdwatch

## deps: Debian packages the demo and the integration tests use.
deps:
	@missing=""; \
	command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v git >/dev/null 2>&1 || missing="$$missing git"; \
	if [ -n "$$missing" ]; then \
		echo "make: installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: deps build
	./$(BIN) demo

## test: format and vet checks, then every unit and integration test (real Git, real Prometheus).
test: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

## unit: the tests that need neither Git nor Prometheus binaries (they skip).
unit:
	$(GO) test -short ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## fixtures: regenerate the R reference values of the statistics tests (needs r-base-core).
fixtures:
	@command -v Rscript >/dev/null 2>&1 || { echo "make: installing Debian package r-base-core"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core >/dev/null; }
	Rscript analyzer/stats/scripts/mannwhitney_fixtures.R analyzer/stats/testdata/mannwhitney_fixtures.json
	Rscript analyzer/stats/scripts/sequential_fixtures.R analyzer/stats/testdata/sequential_fixtures.json

## fuzz: run every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin
