package k8s

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// build runs kustomize (the library kubectl embeds) on dir and returns the
// rendered YAML stream.
func build(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", dir, err)
	}
	return out, nil
}

// kubectlBuild runs `kubectl kustomize dir`; ok is false when kubectl is not
// installed.
func kubectlBuild(dir string) (out []byte, ok bool, err error) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		return nil, false, nil
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("kubectl", "kustomize", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, true, fmt.Errorf("kubectl kustomize %s: %w: %s", dir, err, stderr.String())
	}
	return stdout.Bytes(), true, nil
}

// strictCodecs decode with client-go's scheme and reject unknown or
// duplicate fields, so a typo in a manifest is an error, not a dropped field.
var strictCodecs = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict)

// decode turns a YAML stream into typed objects of client-go's scheme.
func decode(stream []byte) ([]runtime.Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objs []runtime.Object
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split YAML: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := strictCodecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("decode object %d: %w", len(objs)+1, err)
		}
		if gvk.Kind == "" {
			return nil, fmt.Errorf("object %d has no kind", len(objs)+1)
		}
		objs = append(objs, obj)
	}
}

// buildAndDecode builds dir and decodes the result; with kubectl on PATH it
// also checks that `kubectl kustomize` renders the same objects.
func buildAndDecode(t *testing.T, dir string) []runtime.Object {
	t.Helper()
	out, err := build(dir)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decode(out)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	kout, ok, err := kubectlBuild(dir)
	switch {
	case err != nil:
		t.Fatal(err)
	case !ok:
		t.Logf("kubectl not on PATH: only the kustomize library built %s", dir)
	default:
		kobjs, err := decode(kout)
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v", dir, err)
		}
		if got, want := describe(kobjs), describe(objs); got != want {
			t.Errorf("kubectl kustomize %s renders other objects:\n%s\nthe library:\n%s", dir, got, want)
		} else if !equality.Semantic.DeepEqual(sorted(kobjs), sorted(objs)) {
			t.Errorf("kubectl kustomize %s renders the same objects with other content", dir)
		}
	}
	return objs
}

// key names an object: "Kind namespace/name".
func key(o runtime.Object) string {
	m, err := meta.Accessor(o)
	if err != nil {
		return fmt.Sprintf("%T", o)
	}
	return fmt.Sprintf("%s %s/%s", o.GetObjectKind().GroupVersionKind().Kind, m.GetNamespace(), m.GetName())
}

// sorted returns objs ordered by key.
func sorted(objs []runtime.Object) []runtime.Object {
	out := slices.Clone(objs)
	slices.SortFunc(out, func(a, b runtime.Object) int { return strings.Compare(key(a), key(b)) })
	return out
}

// describe lists the objects' keys, sorted, one a line.
func describe(objs []runtime.Object) string {
	var b strings.Builder
	for _, o := range sorted(objs) {
		b.WriteString(key(o) + "\n")
	}
	return b.String()
}
