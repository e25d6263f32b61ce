package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// partsFixtures holds R's pwilcox, qwilcox and uniroot answers, written by
// scripts/mannwhitney_fixtures.R beside the wilcox.test cases.
type partsFixtures struct {
	Pwilcox []struct {
		M, N         int
		Q            float64
		Lower, Upper float64
	} `json:"pwilcox"`
	Qwilcox []struct {
		M, N int
		P    float64
		Q    int
	} `json:"qwilcox"`
	Uniroot []struct {
		Name                    string
		Lower, Upper, Tol, Root float64
	} `json:"uniroot"`
	Choose []struct {
		N, K0  int
		Values []float64
	} `json:"choose"`
}

func loadPartsFixtures(t *testing.T) partsFixtures {
	t.Helper()
	path := filepath.Join("testdata", "mannwhitney_fixtures.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var f partsFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if len(f.Pwilcox) == 0 || len(f.Qwilcox) == 0 || len(f.Uniroot) == 0 || len(f.Choose) == 0 {
		t.Fatalf("%s: missing pwilcox, qwilcox, uniroot or choose section", path)
	}
	return f
}

func TestWilcoxDistMatchesR(t *testing.T) {
	f := loadPartsFixtures(t)
	dists := map[[2]int]*wilcoxDist{}
	dist := func(m, n int) *wilcoxDist {
		if d, ok := dists[[2]int{m, n}]; ok {
			return d
		}
		d := newWilcoxDist(m, n)
		dists[[2]int{m, n}] = d
		return d
	}
	for _, c := range f.Pwilcox {
		t.Run(fmt.Sprintf("pwilcox(%g,%d,%d)", c.Q, c.M, c.N), func(t *testing.T) {
			d := dist(c.M, c.N)
			// Bit for bit: same counts, same divisor, same summation order.
			if got := d.cdf(c.Q, true); got != c.Lower {
				t.Errorf("lower tail = %.17g, R %.17g", got, c.Lower)
			}
			if got := d.cdf(c.Q, false); got != c.Upper {
				t.Errorf("upper tail = %.17g, R %.17g", got, c.Upper)
			}
		})
	}
	for _, c := range f.Qwilcox {
		t.Run(fmt.Sprintf("qwilcox(%g,%d,%d)", c.P, c.M, c.N), func(t *testing.T) {
			if got := dist(c.M, c.N).quantile(c.P); got != c.Q {
				t.Errorf("quantile = %d, R %d", got, c.Q)
			}
		})
	}
}

func TestWilcoxDistSumsToOne(t *testing.T) {
	tests := []struct {
		name string
		m, n int
	}{
		{name: "1x1", m: 1, n: 1},
		{name: "1x40", m: 1, n: 40},
		{name: "7x3", m: 7, n: 3},
		{name: "49x49", m: 49, n: 49},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newWilcoxDist(tt.m, tt.n)
			sum := 0.0
			for k := 0; k <= tt.m*tt.n; k++ {
				sum += d.count(k)
			}
			if !closeTo(sum, d.total, 1e-13) {
				t.Errorf("Σ c(k) = %.17g, C(m+n, n) = %.17g", sum, d.total)
			}
			if d.count(-1) != 0 || d.count(tt.m*tt.n+1) != 0 {
				t.Error("counts outside [0, mn] are not zero")
			}
		})
	}
}

func TestZeroinMatchesR(t *testing.T) {
	funcs := map[string]func(float64) float64{
		"cubic":  func(x float64) float64 { return float64(x*x*x) - 2*x - 5 },
		"square": func(x float64) float64 { return x*x - 2 },
		"step": func(x float64) float64 {
			if x < 0.3 {
				return 1
			}
			return -1
		},
		"inf-left": func(x float64) float64 {
			if x < 0.5 {
				return math.Inf(1)
			}
			return -1
		},
		"root-at-lower": func(x float64) float64 { return -x },
	}
	for _, c := range loadPartsFixtures(t).Uniroot {
		t.Run(fmt.Sprintf("%s/tol=%g", c.Name, c.Tol), func(t *testing.T) {
			f, ok := funcs[c.Name]
			if !ok {
				t.Fatalf("no Go function for %q", c.Name)
			}
			got := zeroin(f, c.Lower, c.Upper, f(c.Lower), f(c.Upper), c.Tol)
			if got != c.Root {
				t.Errorf("zeroin = %.17g, R uniroot = %.17g", got, c.Root)
			}
		})
	}
}

// TestRChooseMatchesR checks C(m+n, n) bit for bit against R's choose() for
// every pair of sizes the exact branch can meet.
func TestRChooseMatchesR(t *testing.T) {
	for _, c := range loadPartsFixtures(t).Choose {
		t.Run(fmt.Sprintf("n=%d", c.N), func(t *testing.T) {
			for i, want := range c.Values {
				k := c.K0 + i
				if got := rChoose(c.N, k); got != want {
					t.Errorf("rChoose(%d, %d) = %.17g, R choose = %.17g", c.N, k, got, want)
				}
			}
		})
	}
}

func TestQnormUpperMirrorsLower(t *testing.T) {
	tests := []struct {
		name string
		p    float64
		want float64 // R 4.2: sprintf("%.17g", qnorm(p, lower.tail = FALSE))
	}{
		{name: "0.025", p: 0.025, want: 1.9599639845400538},
		{name: "0.01", p: 0.01, want: 2.3263478740408408},
		{name: "0.1", p: 0.1, want: 1.2815515655446008},
		{name: "0.5", p: 0.5, want: 0},
		{name: "0.7", p: 0.7, want: -0.52440051270804067},
		{name: "1e-10", p: 1e-10, want: 6.3613409024040557},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := qnormUpper(tt.p); !closeTo(got, tt.want, 1e-15) {
				t.Errorf("qnormUpper(%g) = %.17g, want %.17g", tt.p, got, tt.want)
			}
			if got := qnormLower(tt.p); !closeTo(-got, tt.want, 1e-15) {
				t.Errorf("qnormLower(%g) = %.17g, want %.17g", tt.p, got, -tt.want)
			}
		})
	}
}

func TestPnormLowerTails(t *testing.T) {
	// Φ(z) = erfc(-z/√2)/2 inherits the rounding of z/√2 magnified by about
	// z²: 1e-13 relative near z = -37, against R's Cody algorithm. P-values
	// are compared to 1e-6, so that is far inside the budget.
	tests := []struct {
		name string
		z    float64
		want float64 // R 4.2: sprintf("%.17g", pnorm(z))
		tol  float64
	}{
		{name: "zero", z: 0, want: 0.5, tol: 1e-15},
		{name: "-1.96", z: -1.96, want: 0.024997895148220428, tol: 1e-15},
		{name: "+1.96", z: 1.96, want: 0.97500210485177963, tol: 1e-15},
		{name: "-10", z: -10, want: 7.6198530241605269e-24, tol: 1e-14},
		{name: "-37.5", z: -37.5, want: 4.6053530095819552e-308, tol: 1e-12},
		{name: "below R's cut-off", z: -37.52, want: 0},
		{name: "+40", z: 40, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pnormLower(tt.z); !closeTo(got, tt.want, tt.tol) {
				t.Errorf("pnormLower(%g) = %.17g, want %.17g", tt.z, got, tt.want)
			}
		})
	}
}

func TestTieAccumulator(t *testing.T) {
	// exact is Σ(t³ - t) in integers; R's double arithmetic may round each
	// term and the sum once, so large sums agree to a few ulps.
	exact := func(ts []int) float64 {
		sum := new(big.Int)
		for _, t := range ts {
			b := big.NewInt(int64(t))
			sum.Add(sum, new(big.Int).Sub(new(big.Int).Exp(b, big.NewInt(3), nil), b))
		}
		f, _ := new(big.Float).SetInt(sum).Float64()
		return f
	}
	tests := []struct {
		name string
		ts   []int
		tol  float64
	}{
		{name: "none", ts: nil},
		{name: "pairs and triples", ts: []int{2, 2, 3}},
		{name: "just below 2^21", ts: []int{1<<21 - 1}, tol: 1e-15},
		{name: "large groups overflow 64 bits", ts: []int{3_000_000, 2_500_000, 7}, tol: 1e-15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a tieAcc
			for _, g := range tt.ts {
				a.add(g)
			}
			if got, want := a.value(), exact(tt.ts); !closeTo(got, want, tt.tol) {
				t.Errorf("Σ(t³-t) = %.17g, exact %.17g", got, want)
			}
			if a.any != (len(tt.ts) > 0) {
				t.Errorf("any = %v", a.any)
			}
		})
	}
}
