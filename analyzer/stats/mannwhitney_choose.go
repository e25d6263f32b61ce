package stats

import (
	"math"
	"math/big"
)

// rChoose is the binomial coefficient C(n, k) for 0 <= k <= n exactly as R's
// choose() computes it (R src/nmath/choose.c), since the exact Wilcoxon
// probabilities are counts divided by it and qwilcox compares their running
// sum with the requested level. For min(k, n-k) < 30 R multiplies
//
//	C(n, k) = n · (n-1)/2 · (n-2)/3 ··· (n-k+1)/k, rounded to an integer,
//
// and beyond that it uses exp(lfastchoose(n, k)), rounded to an integer, with
//
//	lfastchoose(n, k) = -log(n+1) - lbeta(n-k+1, k+1).
//
// The second form is up to about 4e-15 away from the exact value; replaying
// it keeps the exact branch's quantiles identical to R's at probability ties.
func rChoose(n, k int) float64 {
	if n-k < k {
		k = n - k
	}
	if k < 30 {
		if k == 0 {
			return 1
		}
		r := float64(n)
		for j := 2; j <= k; j++ {
			r *= float64(n-j+1) / float64(j)
		}
		return math.RoundToEven(r)
	}
	return math.RoundToEven(expRounded(-logRounded(float64(n)+1) - rLbeta(float64(n-k)+1, float64(k)+1)))
}

// expRounded and logRounded are correctly rounded e^x and log x. R calls
// glibc's exp and log, which round correctly on the arguments rChoose meets,
// while Go's math.Exp and math.Log (ports of FreeBSD's msun) are sometimes one
// ulp off: enough to move C(73, 34) by 5e6 and flip qwilcox at a probability
// tie. (glibc's log1p is the same msun algorithm as math.Log1p, so that one is
// used as is.) Hand-written because neither the standard library nor gonum
// has correctly rounded versions: series in 256-bit big.Float arithmetic,
// rounded once. They run a handful of times per exact test with both samples
// of 30 or more, in microseconds. TestRChooseMatchesR checks every C(m+n, n)
// of the exact branch against R bit for bit.
const roundedPrec = 256

func newBig() *big.Float { return new(big.Float).SetPrec(roundedPrec) }

// expRounded is e^x for |x| < 700: the Taylor series of e^(x/2^10), squared
// ten times.
func expRounded(x float64) float64 {
	const halvings = 10
	r := newBig().SetMantExp(newBig().SetFloat64(x), -halvings)
	sum, term := newBig().SetInt64(1), newBig().SetInt64(1)
	for i := int64(1); i < 100 && !negligible(term, sum); i++ {
		term.Mul(term, r)
		term.Quo(term, newBig().SetInt64(i))
		sum.Add(sum, term)
	}
	for range halvings {
		sum.Mul(sum, sum)
	}
	f, _ := sum.Float64()
	return f
}

// logRounded is log(x) for x > 0.
func logRounded(x float64) float64 {
	f, _ := bigLog(newBig().SetFloat64(x)).Float64()
	return f
}

// bigLog is log(v) for v > 0: with v = m·2^e, m in [√½, √2),
// log v = 2 atanh((m-1)/(m+1)) + e·log 2, and log 2 = 2 atanh(1/3).
func bigLog(v *big.Float) *big.Float {
	m := newBig()
	e := v.MantExp(m) // v = m·2^e, m in [0.5, 1)
	if m.Cmp(big.NewFloat(math.Sqrt2/2)) < 0 {
		m.SetMantExp(m, 1)
		e--
	}
	num, den := newBig().Sub(m, big.NewFloat(1)), newBig().Add(m, big.NewFloat(1))
	res := bigAtanh2(num.Quo(num, den))
	third := newBig().Quo(newBig().SetInt64(1), newBig().SetInt64(3))
	ln2 := bigAtanh2(third)
	return res.Add(res, ln2.Mul(ln2, newBig().SetInt64(int64(e))))
}

// bigAtanh2 is 2 atanh(z) = 2 Σ z^(2k+1)/(2k+1) for |z| <= 1/3.
func bigAtanh2(z *big.Float) *big.Float {
	z2 := newBig().Mul(z, z)
	pow, sum := newBig().Set(z), newBig()
	for k := int64(0); k < 200; k++ {
		term := newBig().Quo(pow, newBig().SetInt64(2*k+1))
		if negligible(term, sum) {
			break
		}
		sum.Add(sum, term)
		pow.Mul(pow, z2)
	}
	return sum.Mul(sum, newBig().SetInt64(2))
}

// negligible reports whether adding term can no longer change sum at
// roundedPrec bits.
func negligible(term, sum *big.Float) bool {
	return term.Sign() == 0 || (sum.Sign() != 0 && term.MantExp(nil) < sum.MantExp(nil)-roundedPrec-2)
}

// rLbeta is R's lbeta(a, b) = log Β(a, b) for a, b >= 10, the only case
// rChoose needs (R src/nmath/lbeta.c):
//
//	lbeta(p, q) = -log(q)/2 + log√(2π) + Δ(p) + Δ(q) - Δ(p+q) + (p - 1/2) log(p/(p+q)) + q log1p(-p/(p+q))
//
// with p = min(a, b), q = max(a, b) and Δ = rLgammacor.
func rLbeta(a, b float64) float64 {
	const lnSqrt2Pi = 0.918938533204672741780329736406 // M_LN_SQRT_2PI
	p, q := math.Min(a, b), math.Max(a, b)
	corr := rLgammacor(p) + rLgammacor(q) - rLgammacor(p+q)
	return float64(logRounded(q)*-0.5) + lnSqrt2Pi + corr +
		float64((p-0.5)*logRounded(p/(p+q))) + float64(q*math.Log1p(-p/(p+q)))
}

// rLgammacor is R's lgammacor(x) for 10 <= x < 2^26.5, the remainder of
// Stirling's series, log Γ(x) = log√(2π) + (x - 1/2) log x - x + Δ(x): a
// 5-term Chebyshev series in (10/x)² (W. Fullerton, SLATEC; R
// src/nmath/lgammacor.c and chebyshev.c).
func rLgammacor(x float64) float64 {
	algmcs := [5]float64{
		+.1666389480451863247205729650822e+0,
		-.1384948176067563840732986059135e-4,
		+.9810825646924729426157171547487e-8,
		-.1809129475572494194263306266719e-10,
		+.6221098041892605227126015543416e-13,
	}
	t := 10 / x
	twox := float64(float64(t*t*2)-1) * 2
	var b0, b1, b2 float64
	for i := len(algmcs) - 1; i >= 0; i-- {
		b2, b1 = b1, b0
		b0 = float64(twox*b1) - b2 + algmcs[i]
	}
	return (b0 - b2) * 0.5 / x
}
