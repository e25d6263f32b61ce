package promtest

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestWriteOpenMetrics(t *testing.T) {
	t0 := time.Unix(1704067200, 0)
	tests := []struct {
		name       string
		fams       []Family
		assertions func(t *testing.T, got string, err error)
	}{
		{
			name: "escapes label values and prints special values",
			fams: []Family{{Name: "x", Type: "gauge", Series: []Series{{
				Name:   "x",
				Labels: []Label{{Name: "v", Value: "a\"b\\c\nd"}},
				Samples: []Sample{
					{T: t0, V: 1.5}, {T: t0.Add(time.Second), V: math.Inf(1)},
					{T: t0.Add(2 * time.Second), V: math.NaN()}, {T: t0.Add(3 * time.Second), V: 1234567},
				},
			}}}},
			assertions: func(t *testing.T, got string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				want := "# TYPE x gauge\n" +
					"x{v=\"a\\\"b\\\\c\\nd\"} 1.5 1704067200\n" +
					"x{v=\"a\\\"b\\\\c\\nd\"} +Inf 1704067201\n" +
					"x{v=\"a\\\"b\\\\c\\nd\"} NaN 1704067202\n" +
					"x{v=\"a\\\"b\\\\c\\nd\"} 1.234567e+06 1704067203\n" +
					"# EOF\n"
				if got != want {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
			},
		},
		{
			name: "series without labels and with help",
			fams: []Family{{Name: "up", Type: "gauge", Help: "Up.", Series: []Series{{Name: "up", Samples: []Sample{{T: t0, V: 1}}}}}},
			assertions: func(t *testing.T, got string, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if want := "# TYPE up gauge\n# HELP up Up.\nup 1 1704067200\n# EOF\n"; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			},
		},
		{
			name: "samples out of time order are an error",
			fams: []Family{{Name: "x", Type: "gauge", Series: []Series{{Name: "x", Samples: []Sample{{T: t0, V: 1}, {T: t0, V: 2}}}}}},
			assertions: func(t *testing.T, _ string, err error) {
				if err == nil || !strings.Contains(err.Error(), "not after") {
					t.Errorf("err = %v, want an ordering error", err)
				}
			},
		},
		{
			name: "no families still ends with EOF",
			assertions: func(t *testing.T, got string, err error) {
				if err != nil || got != "# EOF\n" {
					t.Errorf("got %q, %v", got, err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := OpenMetrics(tc.fams)
			tc.assertions(t, string(b), err)
		})
	}
}
