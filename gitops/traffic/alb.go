package traffic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/birdwatch-gitops/birdwatch/gitops/yamledit"
)

// albActionPrefix begins the AWS Load Balancer Controller's custom action
// annotations: alb.ingress.kubernetes.io/actions.<name> holds a JSON action
// that an Ingress path selects with the backend service <name> and port
// "use-annotation".
const albActionPrefix = "alb.ingress.kubernetes.io/actions."

// ALB is the "alb" Provider for the AWS Load Balancer Controller. The
// weights live in the JSON of the Ingress annotation
// alb.ingress.kubernetes.io/actions.<Config.Route>, a forward action with
// weighted target groups:
//
//	{"type": "forward", "forwardConfig": {"targetGroups": [
//	  {"serviceName": "<StableService>", "servicePort": "80", "weight": 90},
//	  {"serviceName": "<CanaryService>", "servicePort": "80", "weight": 10}]}}
//
// The JSON is edited in place: only the two weight numbers change, so its
// layout, the annotation's YAML quoting or block style and everything
// else in the file stay as they were; the edit is re-read and compared
// with the intended JSON before it is returned. Target groups other than
// the two (another service, a targetGroupARN) must have weight 0. An
// annotation that is not valid JSON, or not a forward action with target
// groups, is an error naming the Ingress and the annotation. The ALB
// weights are proportions (0..999); birdwatch writes percentages. An ALB
// value is immutable and safe for concurrent use.
type ALB struct {
	cfg Config
}

// NewALB returns the alb provider for cfg. Route (the action name),
// StableService and CanaryService are required; the services must differ.
func NewALB(cfg Config) (*ALB, error) {
	if cfg.Route == "" {
		return nil, fmt.Errorf("alb: route (the action name in alb.ingress.kubernetes.io/actions.<name>) is required: %w", ErrInvalidConfig)
	}
	if err := checkServices("alb", cfg); err != nil {
		return nil, err
	}
	return &ALB{cfg: cfg}, nil
}

// albAction is a located action annotation and its decoded JSON.
type albAction struct {
	doc    *yamledit.Document
	object string
	path   string     // yamledit path of the annotation, relative to the document
	key    *yaml.Node // the annotation's key
	value  *yaml.Node // the annotation's value scalar
	json   any        // the decoded action
	groups []any      // forwardConfig.targetGroups
	stable int        // index in groups
	canary int
}

// Weights implements Provider.
func (p *ALB) Weights(doc []byte) (Weights, error) {
	f, err := yamledit.Parse(doc)
	if err != nil {
		return Weights{}, fmt.Errorf("alb: %w", err)
	}
	a, err := p.locate(f)
	if err != nil {
		return Weights{}, err
	}
	var w Weights
	if w.Stable, err = a.weight(a.stable); err != nil {
		return Weights{}, err
	}
	if w.Canary, err = a.weight(a.canary); err != nil {
		return Weights{}, err
	}
	if err := w.Validate(); err != nil {
		return Weights{}, &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf(
			"target group weights %d (%s) + %d (%s) do not sum to 100", w.Stable, p.cfg.StableService, w.Canary, p.cfg.CanaryService), Err: ErrInvalidWeights}
	}
	return w, nil
}

// SetWeights implements Provider: it rewrites the two weight numbers inside
// the annotation's JSON and nothing else.
func (p *ALB) SetWeights(doc []byte, w Weights) ([]byte, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("alb: set weights: %w", err)
	}
	f, err := yamledit.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("alb: %w", err)
	}
	a, err := p.locate(f)
	if err != nil {
		return nil, err
	}
	for _, i := range []int{a.stable, a.canary} {
		if _, err := a.weightNumber(i); err != nil {
			return nil, err
		}
	}
	want := map[int]int{a.stable: w.Stable, a.canary: w.Canary}
	out, err := a.rewrite(doc, want)
	if err != nil {
		return nil, &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf("set weights %s: %v", w, err), Err: ErrShape}
	}
	return out, nil
}

// locate finds the one Ingress carrying the action annotation and the two
// target groups in it.
func (p *ALB) locate(f *yamledit.File) (*albAction, error) {
	key := albActionPrefix + p.cfg.Route
	var found []*albAction
	ingresses := 0
	for _, d := range f.Documents() {
		if !isKind(d, "networking.k8s.io/", "Ingress") && !isKind(d, "extensions/", "Ingress") {
			continue
		}
		ingresses++
		anns, err := d.Lookup("metadata.annotations")
		if err != nil || anns.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(anns.Content); i += 2 {
			if anns.Content[i].Value == key {
				found = append(found, &albAction{doc: d, object: objectName(d), path: annotationPath(key),
					key: anns.Content[i], value: anns.Content[i+1]})
			}
		}
	}
	switch {
	case ingresses == 0:
		return nil, &PathError{Msg: "no Ingress (apiVersion networking.k8s.io/* or extensions/*) in the file", Err: ErrObjectNotFound}
	case len(found) == 0:
		return nil, &PathError{Msg: fmt.Sprintf("no annotation %s in %d Ingress(es)", key, ingresses), Err: ErrRouteNotFound}
	case len(found) > 1:
		return nil, &PathError{Msg: fmt.Sprintf("%s and %s both have annotation %s", found[0].object, found[1].object, key), Err: ErrAmbiguous}
	}
	a := found[0]
	return a, p.decode(a)
}

// decode parses the annotation's JSON and finds the two target groups.
func (p *ALB) decode(a *albAction) error {
	if a.value.Kind != yaml.ScalarNode || a.value.Tag != "!!str" {
		return &PathError{Object: a.object, Path: a.path, Msg: "want a string holding the action's JSON", Err: ErrShape}
	}
	if err := json.Unmarshal([]byte(a.value.Value), &a.json); err != nil {
		return &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf("not valid JSON: %v", err), Err: ErrShape}
	}
	action, _ := a.json.(map[string]any)
	_, typ := getFold(action, "type")
	_, fcv := getFold(action, "forwardConfig")
	fc, _ := fcv.(map[string]any)
	_, gv := getFold(fc, "targetGroups")
	groups, ok := gv.([]any)
	if typ != "forward" || !ok {
		return &PathError{Object: a.object, Path: a.path, Msg: `want a forward action with weighted target groups: {"type": "forward", "forwardConfig": {"targetGroups": [...]}}`, Err: ErrShape}
	}
	a.groups, a.stable, a.canary = groups, -1, -1
	for i, g := range groups {
		_, nv := getFold(g, "serviceName")
		name, _ := nv.(string)
		var slot *int
		switch name {
		case p.cfg.StableService:
			slot = &a.stable
		case p.cfg.CanaryService:
			slot = &a.canary
		default:
			if n, err := a.weightNumber(i); err == nil && n != "0" {
				return &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf(
					"target group %d (%s) is neither stable nor canary but has weight %s", i, describeGroup(g), n), Err: ErrInvalidWeights}
			}
			continue
		}
		if *slot >= 0 {
			return &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf("target groups %d and %d both have serviceName %q", *slot, i, name), Err: ErrAmbiguous}
		}
		*slot = i
	}
	for _, x := range []struct {
		i    int
		name string
	}{{a.stable, p.cfg.StableService}, {a.canary, p.cfg.CanaryService}} {
		if x.i < 0 {
			return &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf("no target group with serviceName %q", x.name), Err: ErrDestinationNotFound}
		}
	}
	return nil
}

// describeGroup names a target group for messages.
func describeGroup(g any) string {
	for _, k := range []string{"serviceName", "targetGroupName", "targetGroupARN"} {
		if _, v := getFold(g, k); v != nil {
			return fmt.Sprintf("%s %v", k, v)
		}
	}
	return "unnamed"
}

// weightNumber returns target group i's weight as written in the JSON.
func (a *albAction) weightNumber(i int) (string, error) {
	_, v := getFold(a.groups[i], "weight")
	if v == nil {
		return "", &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf(
			"target group %d (%s) has no weight (add \"weight\": 0)", i, describeGroup(a.groups[i])), Err: ErrMissingWeight}
	}
	f, ok := v.(float64)
	if !ok {
		return "", &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf("target group %d: weight %v is not a number", i, v), Err: ErrShape}
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// weight returns target group i's weight as a percentage.
func (a *albAction) weight(i int) (int, error) {
	s, err := a.weightNumber(i)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf("target group %d: weight %s is not an integer", i, s), Err: ErrShape}
	}
	if v < 0 || v > 100 {
		return 0, &PathError{Object: a.object, Path: a.path, Msg: fmt.Sprintf("target group %d: weight %d outside 0..100", i, v), Err: ErrInvalidWeights}
	}
	return v, nil
}

// albWeightKey finds a "weight" key and its number in the annotation's
// source text, whatever its YAML style: in a double-quoted scalar the
// JSON quotes are escaped (\"weight\").
var albWeightKey = regexp.MustCompile(`(?i)\\?"weight\\?"\s*:\s*(-?[0-9][0-9.eE+-]*)`)

// rewrite returns doc with the weights of the target groups in want
// replaced. yamledit cannot edit inside a string (and not at all inside
// block scalars), so the numbers are found in the scalar's source bytes:
// the JSON keys "weight" there must be exactly the target groups' weight
// keys, in order. The result is parsed again; every document must decode
// as before except this annotation, whose JSON must decode to the intended
// action. Anything else is an error and no output.
func (a *albAction) rewrite(doc []byte, want map[int]int) ([]byte, error) {
	start, end, err := scalarSource(doc, a.key, a.value)
	if err != nil {
		return nil, err
	}
	var weighted []int // target groups with a weight key, in order
	for i, g := range a.groups {
		if _, v := getFold(g, "weight"); v != nil {
			weighted = append(weighted, i)
		}
	}
	if n := countKey(a.json, "weight"); n != len(weighted) {
		return nil, fmt.Errorf("the action has %d \"weight\" keys outside its target groups; birdwatch edits only target group weights", n-len(weighted))
	}
	src := doc[start:end]
	locs := albWeightKey.FindAllSubmatchIndex(src, -1)
	if len(locs) != len(weighted) {
		return nil, fmt.Errorf("found %d \"weight\" keys in the annotation's text for %d weighted target groups: %w", len(locs), len(weighted), yamledit.ErrUnsupported)
	}
	var out bytes.Buffer
	out.Write(doc[:start])
	last := 0
	expect := a.cloneJSON()
	for k, loc := range locs {
		i := weighted[k]
		v, ok := want[i]
		if !ok {
			continue
		}
		out.Write(src[last:loc[2]])
		out.WriteString(strconv.Itoa(v))
		last = loc[3]
		setFold(expect, float64(v), "forwardConfig", "targetGroups", i, "weight")
	}
	out.Write(src[last:])
	out.Write(doc[end:])
	if err := a.verify(doc, out.Bytes(), expect); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// cloneJSON deep-copies the decoded action.
func (a *albAction) cloneJSON() any {
	b, _ := json.Marshal(a.json)
	var c any
	_ = json.Unmarshal(b, &c)
	return c
}

// verify checks that out holds the same documents as doc, except that this
// annotation decodes to the action want.
func (a *albAction) verify(doc, out []byte, want any) error {
	before, err := yamledit.Documents(doc)
	if err != nil {
		return err
	}
	after, err := yamledit.Documents(out)
	if err != nil {
		return fmt.Errorf("the edit broke the YAML: %w", err)
	}
	if len(before) != len(after) {
		return fmt.Errorf("the edit changed the number of documents")
	}
	for i := range before {
		b, c := decodeAny(before[i].Root), decodeAny(after[i].Root)
		if i == a.doc.Index {
			got, err := after[i].Lookup(a.path)
			if err != nil {
				return fmt.Errorf("the edit lost the annotation: %w", err)
			}
			var action any
			if err := json.Unmarshal([]byte(got.Value), &action); err != nil || !reflect.DeepEqual(action, want) {
				return fmt.Errorf("the edited annotation does not read back as intended (%v)", err)
			}
			setAnnotation(c, a.key.Value, a.value.Value)
		}
		if !reflect.DeepEqual(b, c) {
			return fmt.Errorf("the edit changed document %d outside the annotation", i)
		}
	}
	return nil
}

func decodeAny(n *yaml.Node) any {
	var v any
	if n != nil {
		_ = n.Decode(&v)
	}
	return v
}

// setAnnotation sets metadata.annotations[key] in a decoded object.
func setAnnotation(obj any, key, value string) {
	m, _ := obj.(map[string]any)
	md, _ := m["metadata"].(map[string]any)
	if anns, ok := md["annotations"].(map[string]any); ok {
		anns[key] = value
	}
}

// getFold returns the key of m equal to key under Unicode case folding,
// and its value: encoding/json, which the AWS Load Balancer Controller
// decodes the annotation with, matches keys that way ("Weight" is
// "weight"; Argo Rollouts writes the capitalised form).
func getFold(m any, key string) (string, any) {
	mm, _ := m.(map[string]any)
	if v, ok := mm[key]; ok {
		return key, v
	}
	for k, v := range mm {
		if strings.EqualFold(k, key) {
			return k, v
		}
	}
	return "", nil
}

// setFold sets the value at a path of keys (case-folded) and indexes.
func setFold(v any, value any, path ...any) {
	for i, step := range path {
		last := i == len(path)-1
		switch s := step.(type) {
		case string:
			k, next := getFold(v, s)
			if last {
				v.(map[string]any)[k] = value
				return
			}
			v = next
		case int:
			if last {
				v.([]any)[s] = value
				return
			}
			v = v.([]any)[s]
		}
	}
}

// countKey counts the mapping keys named key anywhere in decoded JSON.
func countKey(v any, key string) int {
	n := 0
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			if strings.EqualFold(k, key) {
				n++
			}
			n += countKey(c, key)
		}
	case []any:
		for _, c := range t {
			n += countKey(c, key)
		}
	}
	return n
}

// scalarSource returns the byte range of the value scalar's source text,
// from its first byte (quote or block indicator) to its last: a quoted
// scalar to its closing quote, a plain or block scalar to the last line
// more indented than its key.
func scalarSource(doc []byte, key, value *yaml.Node) (int, int, error) {
	starts := lineStarts(doc)
	if value.Line < 1 || value.Line > len(starts) {
		return 0, 0, errors.New("scalar position outside the file")
	}
	start := starts[value.Line-1] + value.Column - 1
	if start >= len(doc) {
		return 0, 0, errors.New("scalar position outside the file")
	}
	switch doc[start] {
	case '"', '\'':
		q := doc[start]
		for i := start + 1; i < len(doc); i++ {
			switch {
			case q == '"' && doc[i] == '\\':
				i++
			case doc[i] == q && q == '\'' && i+1 < len(doc) && doc[i+1] == '\'':
				i++
			case doc[i] == q:
				return start, i + 1, nil
			}
		}
		return 0, 0, errors.New("unterminated quoted scalar")
	}
	keyIndent := key.Column - 1
	end := len(doc)
	for ln := value.Line; ln < len(starts); ln++ { // the lines after the value's first
		line := doc[starts[ln]:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		trimmed := bytes.TrimLeft(line, " ")
		if len(bytes.TrimSpace(trimmed)) == 0 {
			continue
		}
		if len(line)-len(trimmed) <= keyIndent || bytes.HasPrefix(line, []byte("---")) || bytes.HasPrefix(line, []byte("...")) {
			end = starts[ln]
			break
		}
	}
	return start, end, nil
}

// lineStarts returns the offset of each line of doc.
func lineStarts(doc []byte) []int {
	starts := []int{0}
	for i, c := range doc {
		if c == '\n' && i+1 < len(doc) {
			starts = append(starts, i+1)
		}
	}
	return starts
}
