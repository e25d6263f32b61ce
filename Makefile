# birdwatch: `make demo` runs the main job on the embedded default; `make test` runs the tests.
# Both install what they need from Debian (prometheus, git) when it is missing, and say so.

GO          ?= go
# go.mod's toolchain line names the patched Go every build uses (govulncheck finds the standard
# library's known vulnerabilities in older ones); auto lets the go command fetch it from the module
# proxy where the machine's go.env says local.
GOTOOLCHAIN ?= auto
export GOTOOLCHAIN
BIN         := bin/birdwatch
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 9m

.PHONY: build demo test unit bench lint fixtures fuzz soak deps clean simulate-table

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/birdwatch

## deps: Debian packages the demo and the integration tests use (chromium: the pages' browser test).
deps:
	@missing=""; \
	command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v git >/dev/null 2>&1 || missing="$$missing git"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v ssh-keygen >/dev/null 2>&1 || missing="$$missing openssh-client"; \
	command -v gpg >/dev/null 2>&1 || missing="$$missing gnupg"; \
	command -v victoria-metrics >/dev/null 2>&1 || missing="$$missing victoria-metrics"; \
	command -v influxd >/dev/null 2>&1 || missing="$$missing influxdb"; \
	command -v carbon-cache >/dev/null 2>&1 || missing="$$missing graphite-carbon"; \
	command -v graphite-manage >/dev/null 2>&1 || missing="$$missing graphite-web"; \
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

## simulate-table: every judge on every simulated scenario at the same alpha, seed SIM_SEED; one
## process per judge of SIM_JUDGES (SIM_RUNS rollouts a cell) and one for the Mann-Whitney columns
## (SIM_MW_RUNS: its calibration dominates the time), in parallel at nice 5, each writing a JSON
## table under docs/.simulate/; any failure stops the target. `birdwatch simulate --table --merge`
## then puts them side by side and the Markdown replaces the table between the simulate-table
## markers of docs/simulation.md (tens of minutes on 2 idle cores at 3,000 runs; not in make test).
SIM_RUNS ?= 3000
SIM_MW_RUNS ?= 1000
SIM_SEED ?= 1
SIM_JUDGES ?= sequential sequential-binomial sequential-oracle likelihood-ratio-ceiling threshold
simulate-table: build
	rm -rf docs/.simulate && mkdir -p docs/.simulate
	pids=""; \
	for j in $(SIM_JUDGES); do \
		nice -n 5 ./$(BIN) simulate --table --output json --runs $(SIM_RUNS) --seed $(SIM_SEED) --judges $$j > docs/.simulate/$$j.json & \
		pids="$$pids $$!"; \
	done; \
	nice -n 5 ./$(BIN) simulate --table --output json --runs $(SIM_MW_RUNS) --seed $(SIM_SEED) --judges mannwhitney-reference > docs/.simulate/mannwhitney-reference.json & \
	pids="$$pids $$!"; \
	status=0; for p in $$pids; do wait $$p || status=1; done; exit $$status
	./$(BIN) simulate --table $(foreach j,$(SIM_JUDGES) mannwhitney-reference,--merge docs/.simulate/$(j).json) > docs/.simulation-table.md
	awk 'FNR==NR { table = table $$0 "\n"; next } \
		/<!-- simulate-table:end -->/ { skip = 0 } \
		!skip { print } \
		/<!-- simulate-table:begin -->/ { printf "%s", table; skip = 1 }' \
		docs/.simulation-table.md docs/simulation.md > docs/.simulation.md
	mv docs/.simulation.md docs/simulation.md
	rm -rf docs/.simulation-table.md docs/.simulate

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## fixtures: regenerate the R reference values of the statistics tests (needs r-base-core).
fixtures:
	@command -v Rscript >/dev/null 2>&1 || { echo "make: installing Debian package r-base-core"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core >/dev/null; }
	Rscript analyzer/stats/scripts/mannwhitney_fixtures.R analyzer/stats/testdata/mannwhitney_fixtures.json
	Rscript analyzer/stats/scripts/sequential_fixtures.R analyzer/stats/testdata/sequential_fixtures.json
	Rscript analyzer/stats/scripts/exceedance_fixtures.R analyzer/stats/testdata/exceedance_fixtures.json
	Rscript analyzer/stats/scripts/dispersion_fixtures.R analyzer/stats/testdata/dispersion_fixtures.json
	Rscript analyzer/stats/scripts/dispersion_profile_fixtures.R analyzer/stats/testdata/dispersion_profile_fixtures.json
	Rscript analyzer/stats/scripts/guard_fixtures.R analyzer/stats/testdata/guard_fixtures.json
	Rscript analyzer/stats/scripts/quantile_fixtures.R analyzer/stats/testdata/quantile_fixtures.json
	Rscript analyzer/simulate/scripts/oracle_fixtures.R analyzer/simulate/testdata/oracle_fixtures.json

## fuzz: run every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## package: the Lambda deployment package bin/bootstrap.zip (linux/arm64, CGO off, -trimpath,
## -ldflags '-s -w -buildid=', -tags lambda.norpc, fixed zip timestamps); prints sizes and sha256.
## package-check: builds it a second time from a copy of the tree with an empty build cache and
## compares the zips (a few minutes on 2 cores; not part of `make test`).
.PHONY: package package-check deploy bench-git
package:
	@command -v zip >/dev/null 2>&1 || { echo "make: installing Debian package zip"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zip >/dev/null; }
	GO=$(GO) infra/aws/package.sh bin

package-check:
	@command -v zip >/dev/null 2>&1 || { echo "make: installing Debian package zip"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zip >/dev/null; }
	GO=$(GO) infra/aws/package.sh --check bin

## deploy: package, then `sam deploy --guided` of infra/aws/template.yaml (AWS SAM CLI and AWS
## credentials needed; never run in CI). See the README's "Deploy on AWS".
deploy: package
	@command -v sam >/dev/null 2>&1 || { echo "make: deploy needs the AWS SAM CLI (https://docs.aws.amazon.com/serverless-application-model/)"; exit 1; }
	sam deploy --guided --template-file infra/aws/template.yaml --capabilities CAPABILITY_IAM

## bench-git: Git at scale and the decision cycle (internal/bench, build tag benchgit): a generated
## repository of 10,000 commits x 5,000 files and one of ~100 MB, kept in BENCH_DIR between runs;
## gitops/repo vs the git CLI, a warm decision cycle vs git fetch+commit+push, the binary's peak RSS,
## cold and warm invocations under aws-lambda-rie (installed when missing), a 1,000-canary fan-out tick;
## BenchmarkFetchVsGit (cold, warm, after 1 and 100 outside commits, cache size, over git daemon), then
## the peak RSS of `run --once` on a generated 1 GB repository (50,000 files; BenchmarkPeakRSSHuge, once).
BENCH_DIR ?= $(or $(TMPDIR),/tmp)/birdwatch-bench
BENCH_COUNT ?= 10x
bench-git: deps
	@PATH="$$PATH:$$($(GO) env GOPATH)/bin"; command -v aws-lambda-rie >/dev/null 2>&1 || \
		{ echo "make: installing aws-lambda-rie (go install $(RIE))"; $(GO) install $(RIE); }
	mkdir -p $(BENCH_DIR)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" BIRDWATCH_BENCH_DIR=$(BENCH_DIR) \
		$(GO) test -tags benchgit -run '^$$' -bench . -benchtime $(BENCH_COUNT) -timeout 60m ./internal/bench/
	BIRDWATCH_BENCH_DIR=$(BENCH_DIR) BIRDWATCH_BENCH_HUGE=1 \
		$(GO) test -tags benchgit -run '^$$' -bench 'PeakRSSHuge' -benchtime 1x -timeout 90m ./internal/bench/

## e2e-lambda: the Lambda functions end to end under the AWS Lambda runtime interface emulator
## (aws-lambda-rie; `go install`ed when missing): builds bin/e2e/bootstrap for this machine
## (CGO off, -tags lambda.norpc, -trimpath), then runs the lambdae2e-tagged test of cmd/birdwatch:
## schedule, worker and chatops as three emulated functions, SQS and Slack as local endpoints.
.PHONY: e2e-lambda
RIE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest
e2e-lambda: deps
	@PATH="$$PATH:$$($(GO) env GOPATH)/bin"; command -v aws-lambda-rie >/dev/null 2>&1 || \
		{ echo "make: installing aws-lambda-rie (go install $(RIE))"; $(GO) install $(RIE); }
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -o bin/e2e/bootstrap ./cmd/birdwatch
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" BIRDWATCH_BOOTSTRAP=$(CURDIR)/bin/e2e/bootstrap \
		$(GO) test -count=1 -tags lambdae2e -run '^TestLambdaThroughTheRuntimeEmulator$$' -v ./cmd/birdwatch

## soak: the concurrency, crash and fault tests 20 times over, then every fuzz target for 5 minutes (long; not in CI).
soak: deps
	$(GO) test -count=20 -timeout 60m -run 'TestFiftyInvocationsWithHumans|TestKilledMidCycleConverges|TestConcurrentRunsMakeOneCommitPerDecision|TestFaultMatrix|TestHumanPushDuringADecisionIsKept' ./functions/core
	$(MAKE) fuzz FUZZTIME=5m

clean:
	rm -rf bin

## vulncheck: govulncheck against an offline database built from the golang.org/x/vulndb module
## (pinned in .ci/vulncheck; the database host is unreachable from CI).
.PHONY: vulncheck
vulncheck:
	.ci/vulncheck

## readme-settings: rewrite the README's settings table from the code (`birdwatch settings`).
.PHONY: readme-settings
readme-settings:
	@$(GO) run ./cmd/birdwatch settings > .settings.md && \
	awk 'BEGIN{t=""; while ((getline l < ".settings.md") > 0) t = t l "\n"} \
	/<!-- settings:begin -->/{print; printf "%s", t; skip=1; next} /<!-- settings:end -->/{skip=0} !skip' README.md > .README.md && \
	mv .README.md README.md && rm -f .settings.md

# The Canary JSON Schema (gitops/schema/canary.json, comments.json) after a change to gitops/spec:
# twice, because the schema embeds the comments the first run extracts.
.PHONY: schema
schema:
	go test ./gitops/schema -run 'TestCommentsUpToDate|TestPublishedSchemaUpToDate' -update >/dev/null || true
	go test ./gitops/schema -update

## release: birdwatch binaries for linux and darwin, amd64 and arm64 (static, stripped,
## -trimpath, version from `git describe`), and their SHA256SUMS, in dist/.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
RELEASE_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
.PHONY: release
release:
	rm -rf dist && mkdir -p dist
	@for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=dist/birdwatch-$(VERSION)-$$os-$$arch; \
		echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false \
			-ldflags "-s -w -buildid= -X main.version=$(VERSION)" -o $$out ./cmd/birdwatch || exit 1; \
	done
	cd dist && sha256sum birdwatch-* > SHA256SUMS && cat SHA256SUMS
