package yamledit

import (
	"errors"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string // canonical String(); "" when an error is expected
		steps int
	}{
		{name: "keys", in: "metadata.name", want: "metadata.name", steps: 2},
		{name: "index", in: "spec.http[0].route[1].weight", want: "spec.http[0].route[1].weight", steps: 6},
		{name: "selector", in: "spec.subsets[name=production].labels.version", want: "spec.subsets[name=production].labels.version", steps: 5},
		{name: "selector with dotted keys and two conditions", in: "r[destination.subset=canary,destination.host=aleph].weight", want: "r[destination.subset=canary,destination.host=aleph].weight", steps: 3},
		{name: "selector empty value", in: "a[name=].b", want: "a[name=].b", steps: 3},
		{name: "escaped dot in key", in: `metadata.annotations.prometheus\.io/scrape`, want: `metadata.annotations.prometheus\.io/scrape`, steps: 3},
		{name: "escaped bracket in selector value", in: `a[name=x\]y]`, want: `a[name=x\]y]`, steps: 2},
		{name: "root sequence", in: "[2].name", want: "[2].name", steps: 2},
		{name: "index after index", in: "m[0][1]", want: "m[0][1]", steps: 3},
		{name: "document index", in: "{1}spec.host", want: "{1}spec.host", steps: 2},
		{name: "document conditions", in: "{kind=DestinationRule,metadata.name=aleph}spec.host", want: "{kind=DestinationRule,metadata.name=aleph}spec.host", steps: 2},
		{name: "literal specials are escaped in String", in: "a]b.c=d", want: `a\]b.c\=d`, steps: 2},
		{name: "empty", in: ""},
		{name: "leading dot", in: ".a"},
		{name: "double dot", in: "a..b"},
		{name: "trailing dot", in: "a."},
		{name: "unclosed bracket", in: "a[1"},
		{name: "empty bracket", in: "a[]"},
		{name: "negative index", in: "a[-1]"},
		{name: "huge index", in: "a[99999999999999999999]"},
		{name: "selector without value", in: "a[name]"},
		{name: "selector without closing", in: "a[name=x"},
		{name: "junk after bracket", in: "a[0]b"},
		{name: "document selector only", in: "{0}"},
		{name: "unclosed document selector", in: "{kind=X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePath(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidPath) {
					t.Fatalf("ParsePath(%q) error = %v, want ErrInvalidPath", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.in, err)
			}
			if got := p.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if len(p.steps) != tt.steps {
				t.Errorf("got %d steps, want %d", len(p.steps), tt.steps)
			}
			again, err := ParsePath(p.String())
			if err != nil || again.String() != p.String() {
				t.Errorf("round trip of %q: %q, %v", p.String(), again.String(), err)
			}
		})
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"a.b[0]", "spec.subsets[name=production].labels.version", `{kind=X}a\.b[c.d=e,f=g]`, "[1][2]", `a\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		again, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("ParsePath(%q) ok but its String %q fails: %v", s, p.String(), err)
		}
		if again.String() != p.String() {
			t.Fatalf("round trip changed %q to %q", p.String(), again.String())
		}
	})
}
