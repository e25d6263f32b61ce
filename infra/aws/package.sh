#!/usr/bin/env bash
# package.sh builds the Lambda deployment package: OUT/bootstrap (the birdwatch
# binary for provided.al2023 on arm64) and OUT/bootstrap.zip, reproducibly:
# the same source tree and Go toolchain give the same bytes, wherever the tree
# lies and whatever the build cache holds.
#
#   infra/aws/package.sh [OUT]          # build, print sizes and sha256 (OUT defaults to bin)
#   infra/aws/package.sh --check [OUT]  # build one snapshot of the tree twice (at two paths, the
#                                       # second with an empty build cache) and compare the zips
#
# Environment: GO (go), GOARCH (arm64; amd64 to run the binary under aws-lambda-rie here).
# What makes it reproducible: CGO off, -trimpath, -buildvcs=false (no commit or dirty flag in the
# binary), -ldflags '-s -w -buildid=', one file in the zip with a fixed mode and timestamp, and
# zip -X (no extra fields: uid, gid, access time).
set -euo pipefail

GO=${GO:-go}
ARCH=${GOARCH:-arm64}
root=$(cd "$(dirname "$0")/../.." && pwd)

build() { # build SRC OUT
	local src=$1 out=$2
	mkdir -p "$out/lambda"
	(cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=$ARCH GOFLAGS= \
		"$GO" build -trimpath -buildvcs=false -tags lambda.norpc -ldflags='-s -w -buildid=' \
		-o "$out/lambda/bootstrap" ./cmd/birdwatch)
	chmod 0755 "$out/lambda/bootstrap"
	TZ=UTC touch -t 198001010000 "$out/lambda/bootstrap"
	rm -f "$out/bootstrap.zip"
	(cd "$out/lambda" && TZ=UTC zip -q -X -9 ../bootstrap.zip bootstrap)
	mv -f "$out/lambda/bootstrap" "$out/bootstrap"
	rmdir "$out/lambda"
}

report() { # report OUT
	local bin=$1/bootstrap zip=$1/bootstrap.zip
	printf 'bootstrap      %9d bytes (%s, linux/%s)\n' "$(stat -c %s "$bin")" "$bin" "$ARCH"
	printf 'bootstrap.zip  %9d bytes (%s)\n' "$(stat -c %s "$zip")" "$zip"
	printf 'sha256         %s\n' "$(sha256sum "$zip" | cut -d' ' -f1)"
}

command -v zip >/dev/null || { echo "package.sh: needs zip (apt-get install zip)" >&2; exit 1; }

if [[ ${1:-} != --check ]]; then
	out=$(mkdir -p "${1:-$root/bin}" && cd "${1:-$root/bin}" && pwd)
	build "$root" "$out"
	report "$out"
	exit 0
fi

out=$(mkdir -p "${2:-$root/bin}" && cd "${2:-$root/bin}" && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# One snapshot of the tree (without .git and bin), copied to two different paths, so that edits
# made meanwhile cannot tell the builds apart: the first uses the usual build cache, the second an
# empty one.
mkdir -p "$tmp/a/src" "$tmp/b/elsewhere/src"
tar -C "$root" --exclude=./.git --exclude=./bin -cf "$tmp/tree.tar" .
tar -C "$tmp/a/src" -xf "$tmp/tree.tar"
tar -C "$tmp/b/elsewhere/src" -xf "$tmp/tree.tar"
build "$tmp/a/src" "$tmp/a/out"
GOCACHE="$tmp/gocache" build "$tmp/b/elsewhere/src" "$tmp/b/out"
cp "$tmp/a/out/bootstrap" "$tmp/a/out/bootstrap.zip" "$out/"
report "$out"
a=$(sha256sum <"$tmp/a/out/bootstrap.zip") b=$(sha256sum <"$tmp/b/out/bootstrap.zip")
if [[ $a != "$b" ]]; then
	cmp -l "$tmp/a/out/bootstrap" "$tmp/b/out/bootstrap" | head -5 >&2 || true
	echo "package.sh: NOT reproducible: the second build's zip differs (${b%% *})" >&2
	exit 1
fi
echo "reproducible: two builds of one snapshot, at two paths, the second with an empty build cache, gave the same zip"
