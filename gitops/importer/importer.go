// Package importer turns Flagger and Argo Rollouts specs into birdwatch
// Canary specs. It reads the foreign objects and the GitOps checkout they
// refer to (the target Deployment, its HPA, Services, VirtualService,
// Ingress), and returns the files to write: the Canary under .birdwatch/,
// the manifests Flagger or Argo Rollouts would have generated in the cluster
// (primary Deployment and Services, VirtualService and DestinationRule with
// a subset per version, HTTPRoute, TrafficSplit, canary Ingress), and the
// checkout's files it had to change. Every foreign field is accounted for in
// Notes: mapped, approximated or without an equivalent.
//
// The package does no I/O besides reading the checkout in LoadCheckout; the
// caller writes Result.Files.
package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind says how a foreign field was carried over.
type Kind string

// Kinds of Notes.
const (
	Mapped       Kind = "mapped"       // same meaning in birdwatch
	Approximated Kind = "approximated" // close, the difference is said
	NoEquivalent Kind = "no equivalent"
	Wrote        Kind = "wrote"   // a new file
	Changed      Kind = "changed" // a file of the checkout changed in place
	Remove       Kind = "remove"  // a file the user should delete once birdwatch runs
)

// Note accounts for one foreign field or one file.
type Note struct {
	Kind Kind
	// Field is the foreign field (e.g. "spec.analysis.threshold") or a file path.
	Field string
	Text  string
}

// String formats n as one line of the import report.
func (n Note) String() string {
	if n.Text == "" {
		return fmt.Sprintf("%-13s %s", n.Kind, n.Field)
	}
	return fmt.Sprintf("%-13s %s: %s", n.Kind, n.Field, n.Text)
}

// Result is what an import produces.
type Result struct {
	// Files maps repository-relative paths to their new content.
	Files map[string][]byte
	Notes []Note
}

func (r *Result) note(k Kind, field, format string, args ...any) {
	r.Notes = append(r.Notes, Note{Kind: k, Field: field, Text: fmt.Sprintf(format, args...)})
}

// Object is one YAML document of a Kubernetes-style object.
type Object struct {
	File string // repository-relative, slash-separated
	Doc  int    // zero-based document index in File
	Body map[string]any
}

// Kind returns the object's kind.
func (o *Object) Kind() string { return str(o.Body, "kind") }

// APIVersion returns the object's apiVersion.
func (o *Object) APIVersion() string { return str(o.Body, "apiVersion") }

// Name returns metadata.name.
func (o *Object) Name() string { return str(o.Body, "metadata", "name") }

// Namespace returns metadata.namespace, or def when it is empty.
func (o *Object) Namespace(def string) string {
	if ns := str(o.Body, "metadata", "namespace"); ns != "" {
		return ns
	}
	return def
}

// Checkout is the GitOps repository being imported into: its YAML objects.
type Checkout struct {
	Dir     string
	Objects []*Object
	// Skipped lists files that are not YAML objects birdwatch could read.
	Skipped []string
}

// LoadCheckout reads every .yaml/.yml file under dir except .git and
// .birdwatch. Files that do not parse are listed in Skipped, not fatal: a
// checkout holds Helm templates and other non-YAML files named .yaml.
func LoadCheckout(dir string) (*Checkout, error) {
	co := &Checkout{Dir: dir}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != dir && (n == ".git" || n == ".birdwatch" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		objs, err := ParseObjects(filepath.ToSlash(rel), data)
		if err != nil {
			co.Skipped = append(co.Skipped, filepath.ToSlash(rel))
			return nil
		}
		co.Objects = append(co.Objects, objs...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read checkout %s: %w", dir, err)
	}
	return co, nil
}

// ParseObjects decodes every document of data that has a kind.
func ParseObjects(file string, data []byte) ([]*Object, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*Object
	for i := 0; ; i++ {
		var body map[string]any
		err := dec.Decode(&body)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		if body != nil && str(body, "kind") != "" {
			out = append(out, &Object{File: file, Doc: i, Body: body})
		}
	}
}

// Find returns the object of kind in namespace ns named name, or nil. An
// object without a namespace matches any namespace (Kustomize and Argo CD
// set it at apply time).
func (co *Checkout) Find(kind, ns, name string) *Object {
	var loose *Object
	for _, o := range co.Objects {
		if o.Kind() != kind || o.Name() != name {
			continue
		}
		switch o.Namespace("") {
		case ns:
			return o
		case "":
			loose = o
		}
	}
	return loose
}

// notFound is the error for a reference the checkout does not hold.
func (co *Checkout) notFound(field, kind, ns, name string) error {
	return fmt.Errorf("%s: %s %s/%s not found in %s (%d YAML objects read)", field, kind, ns, name, co.Dir, len(co.Objects))
}

// addToKustomization lists files in the kustomization.yaml of their folder,
// if there is one, so Flux and Argo CD apply them.
func (co *Checkout) addToKustomization(r *Result, dir string, files ...string) error {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		k := path.Join(dir, name)
		data, ok := r.Files[k]
		if !ok {
			var err error
			if data, err = os.ReadFile(filepath.Join(co.Dir, filepath.FromSlash(k))); err != nil {
				continue
			}
		}
		out, added, err := appendResources(data, dir, files)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if len(added) > 0 {
			r.Files[k] = out
			r.note(Changed, k, "resources += %s", strings.Join(added, ", "))
		}
		return nil
	}
	return nil
}

// appendResources adds files (relative to dir) to the resources list of a
// kustomization, keeping its other content and comments.
func appendResources(data []byte, dir string, files []string) ([]byte, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, err
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, errors.New("not a mapping")
	}
	root := doc.Content[0]
	res := mappingValue(root, "resources")
	if res == nil {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "resources"}, &yaml.Node{Kind: yaml.SequenceNode})
		res = root.Content[len(root.Content)-1]
	}
	var added []string
	for _, f := range files {
		rel := strings.TrimPrefix(f, dir+"/")
		if slices.ContainsFunc(res.Content, func(n *yaml.Node) bool { return n.Value == rel }) {
			continue
		}
		res.Content = append(res.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: rel})
		added = append(added, rel)
	}
	out, err := encodeNodes([]*yaml.Node{&doc})
	return out, added, err
}

// mappingValue returns the value node of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// encodeNodes writes documents with two-space indentation.
func encodeNodes(docs []*yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeObjects writes generated objects as one multi-document file with a
// header comment.
func encodeObjects(header string, objs ...map[string]any) ([]byte, error) {
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		b.WriteString("# " + line + "\n")
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, o := range objs {
		if err := enc.Encode(o); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
