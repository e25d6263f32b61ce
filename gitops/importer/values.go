package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
)

// dig returns the value at keys in nested maps, or nil.
func dig(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

// str returns the scalar at keys as a string ("" when absent).
func str(m map[string]any, keys ...string) string {
	switch v := dig(m, keys...).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// mapAt returns the mapping at keys, or nil.
func mapAt(m map[string]any, keys ...string) map[string]any {
	v, _ := dig(m, keys...).(map[string]any)
	return v
}

// list returns the sequence at keys, or nil.
func list(m map[string]any, keys ...string) []any {
	v, _ := dig(m, keys...).([]any)
	return v
}

// maps returns the mappings of the sequence at keys.
func maps(m map[string]any, keys ...string) []map[string]any {
	var out []map[string]any
	for _, v := range list(m, keys...) {
		if mm, ok := v.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

// number returns the scalar at keys as a float64; ok is false when absent or not a number.
func number(m map[string]any, keys ...string) (float64, bool) {
	switch v := dig(m, keys...).(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// deepCopy copies a decoded YAML value.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// ensureMap returns the mapping at key of m, creating it.
func ensureMap(m map[string]any, keys ...string) map[string]any {
	cur := m
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	return cur
}

var labelValueRE = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// imageVersion returns the tag of an image reference as a label value, and
// the image without its tag; ok is false when there is no usable tag.
func imageVersion(image string) (repo, version string, ok bool) {
	if at := strings.Index(image, "@"); at >= 0 {
		image = image[:at]
	}
	colon := strings.LastIndex(image, ":")
	if colon < 0 || strings.Contains(image[colon:], "/") {
		return image, "", false
	}
	tag := image[colon+1:]
	return image[:colon], tag, len(tag) <= 63 && labelValueRE.MatchString(tag)
}

// editDocument changes document doc of file in place (on top of earlier
// edits in r.Files): edit gets the document's root mapping node.
func editDocument(co *Checkout, r *Result, file string, doc int, edit func(*yaml.Node) error) error {
	data, ok := r.Files[file]
	if !ok {
		var err error
		if data, err = os.ReadFile(filepath.Join(co.Dir, filepath.FromSlash(file))); err != nil {
			return err
		}
	}
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		docs = append(docs, &n)
	}
	if doc >= len(docs) || len(docs[doc].Content) == 0 || docs[doc].Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s: document %d is not a mapping", file, doc+1)
	}
	if err := edit(docs[doc].Content[0]); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	out, err := encodeNodes(docs)
	if err != nil {
		return err
	}
	r.Files[file] = out
	return nil
}

// setScalar sets key=value in the mapping at keys under m, creating mappings.
func setScalar(m *yaml.Node, keys []string, key, value string) {
	cur := m
	for _, k := range keys {
		next := mappingValue(cur, k)
		if next == nil || next.Kind != yaml.MappingNode {
			next = &yaml.Node{Kind: yaml.MappingNode}
			if v := mappingValue(cur, k); v != nil {
				*v = *next
				next = v
			} else {
				cur.Content = append(cur.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, next)
			}
		}
		cur = next
	}
	if v := mappingValue(cur, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Style = yaml.ScalarNode, "!!str", value, 0
		return
	}
	cur.Content = append(cur.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

// parseDuration reads a Flagger or Argo duration: a Go duration ("1m",
// "30s", "1h30m") or an integer number of seconds.
func parseDuration(v any) (spec.Duration, error) {
	switch t := v.(type) {
	case int:
		return spec.Duration(time.Duration(t) * time.Second), nil
	case string:
		if n, err := strconv.Atoi(t); err == nil {
			return spec.Duration(time.Duration(n) * time.Second), nil
		}
		d, err := time.ParseDuration(t)
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 10m or 600, got %q", t)
		}
		return spec.Duration(d), nil
	}
	return 0, fmt.Errorf("want a duration such as 10m or 600, got %v", v)
}
