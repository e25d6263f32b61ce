package traffic

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// Helpers shared by the providers: reading scalars of one document, naming
// objects in messages and building shape errors.

// isKind reports whether d is an object of one of kinds whose apiVersion is
// in group (a prefix such as "networking.istio.io/").
func isKind(d *yamledit.Document, group string, kinds ...string) bool {
	kind, _ := scalarAt(d, "kind")
	api, _ := scalarAt(d, "apiVersion")
	return slices.Contains(kinds, kind) && strings.HasPrefix(api, group)
}

// objectName describes d for messages: "VirtualService games/aleph
// (document 2)", or "document 2" for a document without kind and name.
func objectName(d *yamledit.Document) string {
	kind, _ := scalarAt(d, "kind")
	name, _ := scalarAt(d, "metadata.name")
	if ns, _ := scalarAt(d, "metadata.namespace"); ns != "" {
		name = ns + "/" + name
	}
	what := strings.TrimSpace(kind + " " + name)
	if what == "" {
		return fmt.Sprintf("document %d", d.Index)
	}
	return fmt.Sprintf("%s (document %d)", what, d.Index)
}

// scalarAt returns the scalar at path, or false if there is none.
func scalarAt(d *yamledit.Document, path string) (string, bool) {
	n, err := d.Lookup(path)
	if err != nil || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

func shapeError(obj, path, msg string, cause error) error {
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &PathError{Object: obj, Path: path, Msg: msg, Err: ErrShape}
}

// escapeKey escapes a mapping key for a yamledit path, so that keys holding
// dots or brackets (annotation names such as
// "nginx.ingress.kubernetes.io/canary") are one step.
func escapeKey(key string) string {
	var b strings.Builder
	for _, r := range key {
		if strings.ContainsRune(`.[]{}=,\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
