package stats

import "math"

// zeroinMaxIter is uniroot's default maxiter.
const zeroinMaxIter = 1000

// zeroin returns a root of f in [a, b], given fa = f(a) and fb = f(b) of
// opposite sign (or zero), to within 4ε|x| + tol. It is R's R_zeroin2
// (src/library/stats/src/zeroin.c) as uniroot calls it with maxiter = 1000:
// Brent's method, which mixes bisection, the secant step and inverse quadratic
// interpolation,
//
//	p/q = step from b by inverse quadratic interpolation through (a,fa), (b,fb), (c,fc)
//
// accepting the interpolated step only when it stays inside [b, c] and shrinks
// fast enough, else bisecting. Non-finite values of f are replaced as R's
// uniroot callback does: -Inf by -MaxFloat64, NaN and +Inf by +MaxFloat64.
// If the iterations run out it returns the last approximation, as R does
// (with a warning).
//
// Hand-written, not gonum (which has no bracketing root finder), because
// wilcox.test's estimate and bounds are roots of step functions: any point
// within tol of the jump is "a root", so matching R means repeating R's
// iterates exactly. Every product that could be fused into an FMA is rounded
// explicitly with float64() so that the iterates do not depend on the CPU.
// Source: R. P. Brent (1973), Algorithms for Minimization without
// Derivatives, ch. 4; G. Forsythe, M. Malcolm, C. Moler (1977), Computer
// Methods for Mathematical Computations, zeroin.
func zeroin(f func(float64) float64, a, b, fa, fb, tol float64) float64 {
	const eps = 0x1p-52 // DBL_EPSILON
	if fa == 0 {
		return a
	}
	if fb == 0 {
		return b
	}
	c, fc := a, fa
	for it := 0; it <= zeroinMaxIter; it++ {
		prevStep := b - a
		if math.Abs(fc) < math.Abs(fb) { // make b the best approximation
			a, b, c = b, c, b
			fa, fb, fc = fb, fc, fb
		}
		tolAct := float64(2*eps*math.Abs(b)) + tol/2
		newStep := (c - b) / 2
		if math.Abs(newStep) <= tolAct || fb == 0 {
			return b
		}
		if math.Abs(prevStep) >= tolAct && math.Abs(fa) > math.Abs(fb) {
			if s, ok := interpolate(a, b, c, fa, fb, fc, prevStep, tolAct); ok {
				newStep = s
			}
		}
		if math.Abs(newStep) < tolAct {
			if newStep > 0 {
				newStep = tolAct
			} else {
				newStep = -tolAct
			}
		}
		a, fa = b, fb
		b += newStep
		fb = finiteForRoot(f(b))
		if (fb > 0 && fc > 0) || (fb < 0 && fc < 0) {
			c, fc = a, fa
		}
	}
	return b
}

// interpolate is the interpolation step of zeroin: linear when a == c,
// inverse quadratic otherwise; ok is false when the step is rejected in
// favour of bisection.
func interpolate(a, b, c, fa, fb, fc, prevStep, tolAct float64) (step float64, ok bool) {
	var p, q float64
	cb := c - b
	if a == c {
		t1 := fb / fa
		p = float64(cb * t1)
		q = 1 - t1
	} else {
		q = fa / fc
		t1 := fb / fc
		t2 := fb / fa
		p = t2 * (float64(cb*q*(q-t1)) - float64((b-a)*(t1-1)))
		q = (q - 1) * (t1 - 1) * (t2 - 1)
	}
	if p > 0 {
		q = -q
	} else {
		p = -p
	}
	if p < float64(0.75*cb*q)-math.Abs(float64(tolAct*q))/2 && p < math.Abs(prevStep*q/2) {
		return p / q, true
	}
	return 0, false
}

// finiteForRoot maps a non-finite function value as R's uniroot callback
// (fcn2 in src/library/stats/src/optimize.c) does, keeping its sign for
// root finding.
func finiteForRoot(v float64) float64 {
	switch {
	case math.IsInf(v, -1):
		return -math.MaxFloat64
	case math.IsNaN(v) || math.IsInf(v, 1):
		return math.MaxFloat64
	}
	return v
}
