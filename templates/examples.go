package templates

import "embed"

// Examples holds complete example GitOps repositories, one folder each
// (examples/aleph: the Canary of DESIGN.md with its Istio manifests).
//
//go:embed all:examples
var Examples embed.FS
