package simulate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// productionScenarios is the bank of production-shaped scenarios: the
// common setting of Scenarios with traffic that departs from independent
// requests (see Production). The healthy ones come first.
func productionScenarios(healthy func(name, desc string) Scenario) []Scenario {
	with := func(s Scenario, rate float64, p Production) Scenario {
		s.Rate, s.Production = rate, p
		return s
	}
	var out []Scenario
	add := func(s Scenario) { out = append(out, s) }

	add(with(healthy("overdispersed-100rps", "each version's error rate varies from interval to interval, independently (log-normal multiplier, sdlog 0.5); 100 requests/s"),
		100, Production{RateSpread: 0.5}))
	add(with(healthy("overdispersed-1000rps", "as overdispersed-100rps at 1,000 requests/s, where the extra-binomial variation dwarfs the binomial"),
		1000, Production{RateSpread: 0.5}))
	add(with(healthy("overdispersed-shared", "the error rate varies from interval to interval, the same for both versions (sdlog 0.5, a dependency's blips); 1,000 requests/s"),
		1000, Production{RateSpread: 0.5, SharedSpread: true}))
	add(with(healthy("pods-1v10-sd03", "one canary pod vs ten stable pods, each pod's error rate varying around the same mean every interval (sdlog 0.3); 1,000 requests/s"),
		1000, Production{CanaryPods: 1, BaselinePods: 10, PodIntervalSpread: 0.3}))
	add(with(healthy("pods-1v10-sd05", "as pods-1v10-sd03 with sdlog 0.5"),
		1000, Production{CanaryPods: 1, BaselinePods: 10, PodIntervalSpread: 0.5}))
	add(with(healthy("pods-persistent-sd03", "one canary pod vs ten stable pods whose error rates differ for the whole rollout (sdlog 0.3, drawn once): the limit, see the notes"),
		1000, Production{CanaryPods: 1, BaselinePods: 10, PodSpread: 0.3}))
	add(with(healthy("pinned-clients", "five failing clients pinned to a version by 5-minute sticky sessions, each active in 30% of the intervals with a burst of about 30 failing requests"),
		100, Production{FailingClients: 5, ClientRate: 0.5, ClientActive: 0.3, SessionLength: 5 * time.Minute}))
	add(with(healthy("pinned-clients-rollout", "as pinned-clients, each client pinned for the whole rollout: the limit, see the notes"),
		100, Production{FailingClients: 5, ClientRate: 0.5, ClientActive: 0.3}))
	diurnal := with(healthy("diurnal", "traffic swings between 20% and 180% of 100 requests/s over a 30-minute cycle, error rates varying with it for both versions (shared, sdlog 0.3)"),
		100, Production{DiurnalAmplitude: 0.8, DiurnalPeriod: 30 * time.Minute, RateSpread: 0.3, SharedSpread: true})
	add(diurnal)
	low := with(healthy("very-low-traffic", "0.5 requests/s in total, error rates overdispersed (sdlog 0.5); steps 10% for 30m, 50% for 10m"),
		0.5, Production{RateSpread: 0.5})
	low.Steps = []Step{{10, 30 * time.Minute}, {50, 10 * time.Minute}}
	add(low)
	for _, g := range []struct {
		name string
		rate float64
	}{{"guard-stable-at-max", 0.01}, {"guard-stable-at-half", 0.005}} {
		s := healthy(g.name, fmt.Sprintf("the aleph example's max: 1 guard on the error rate, with the stable itself at %g%% errors and the canary no worse; 10 requests/s; guards on for every judge",
			100*g.rate))
		s.Rate, s.Guards = 10, true
		s.Baseline.ErrorRate, s.Canary.ErrorRate = g.rate, g.rate
		add(s)
	}
	for _, sc := range []struct {
		name        string
		every       time.Duration
		extrapolate bool
	}{{"scrape-15s-increase", 15 * time.Second, true}, {"scrape-30s-increase", 30 * time.Second, true},
		{"scrape-45s-increase", 45 * time.Second, true}, {"scrape-15s-raw", 15 * time.Second, false},
		{"scrape-30s-raw", 30 * time.Second, false}, {"scrape-60s-raw", 60 * time.Second, false}} {
		how := "raw counter differences between look times"
		if sc.extrapolate {
			how = "PromQL increase() over each look's window (extrapolated)"
		}
		s := with(healthy(sc.name, "canary error rate at the tolerance (1.25x), counts from a counter scraped every "+
			sc.every.String()+" read as "+how), 100, Production{Scrape: sc.every, Extrapolate: sc.extrapolate})
		s.Canary.ErrorRate, s.SubSteps = 0.00125, 20
		add(s)
	}
	return out
}

// productionFaults are the faulty scenarios of the bank: regressions the
// judge should catch, some on production-shaped traffic.
func productionFaults(faulty func(name, desc string, canary func(*Behaviour)) Scenario) []Scenario {
	x15 := faulty("errors-x1-5", "canary error rate 1.5x the baseline's (1.5% vs 1%); 100 requests/s, 10% for 30m",
		func(b *Behaviour) { b.ErrorRate = 0.015 })
	x15.Baseline.ErrorRate, x15.Steps = 0.01, []Step{{10, 30 * time.Minute}}
	x2low := faulty("errors-x2-low-base", "canary error rate twice a low base rate (0.2% vs 0.1%); 100 requests/s, 5% for 30m",
		func(b *Behaviour) { b.ErrorRate = 0.002 })
	x2low.Steps = []Step{{5, 30 * time.Minute}}
	x2disp := faulty("errors-x2-overdispersed", "canary error rate twice the baseline's at 1,000 requests/s, both overdispersed (sdlog 0.5, independent)",
		func(b *Behaviour) { b.ErrorRate = 0.002 })
	x2disp.Rate, x2disp.Production = 1000, Production{RateSpread: 0.5}
	return []Scenario{x15, x2low, x2disp}
}

// latencyQuantileRows are the scenarios run again with the latency metric
// read as a histogram and tested at a quantile of the stable
// (istio-latency-buckets, Scenario.LatencyQuantile) instead of as the
// requests slower than the 250 ms SLO: name of the scenario, quantile.
// With Istio's buckets and the common latency (median 100 ms, sdlog 0.5),
// the bound nearest the stable's p99 is 250 ms (3.3% above it), the
// slow-request SLO, and nearest its p99.9 is 500 ms (0.06% above it).
// healthy-latency-edge is at the tolerance for the 250 ms bound only, so
// it has no p99.9 row.
var latencyQuantileRows = []struct {
	name     string
	quantile float64
}{
	{"healthy", 0.99}, {"healthy-latency-edge", 0.99}, {"diurnal", 0.99}, {"healthy", 0.999},
	{"latency-shift-10pct", 0.99}, {"latency-tail", 0.99}, {"latency-shift-10pct", 0.999}, {"latency-tail", 0.999},
}

// withLatencyQuantiles returns all with the latencyQuantileRows added: the
// healthy ones after the last healthy scenario, the faulty ones at the end.
// A row's name is its scenario's with "-p99" or "-p999".
func withLatencyQuantiles(all []Scenario) []Scenario {
	var healthy, faulty []Scenario
	for _, r := range latencyQuantileRows {
		i := slices.IndexFunc(all, func(s Scenario) bool { return s.Name == r.name })
		if i < 0 {
			panic("simulate: latency quantile row of unknown scenario " + r.name)
		}
		s := all[i]
		s.Name = fmt.Sprintf("%s-p%s", s.Name, strings.ReplaceAll(strconv.FormatFloat(100*r.quantile, 'f', -1, 64), ".", ""))
		s.Description = fmt.Sprintf("%s; latency read as a histogram (istio-latency-buckets) and tested at the stable's p%s bucket instead of the 250 ms slow-request count",
			s.Description, strconv.FormatFloat(100*r.quantile, 'f', -1, 64))
		s.LatencyQuantile = r.quantile
		if s.Healthy {
			healthy = append(healthy, s)
		} else {
			faulty = append(faulty, s)
		}
	}
	last := 0
	for i, s := range all {
		if s.Healthy {
			last = i + 1
		}
	}
	out := slices.Concat(all[:last:last], healthy, all[last:], faulty)
	return out
}
