package spec

import "time"

// Defaults applied by SetDefaults.
const (
	DefaultNamespace         = "default"
	DefaultInterval          = time.Minute
	DefaultJudge             = "sequential"
	DefaultAlpha             = 0.01
	DefaultMinRequests       = 100
	DefaultFailureLimit      = 1
	DefaultInconclusiveLimit = 10
	DefaultDirection         = "increase"
	DefaultTolerance         = 0.25
	DefaultOnFailure         = "rollback"
	DefaultSyncEngine        = "none"
	DefaultSyncTimeout       = 10 * time.Minute
	DefaultGitMode           = "push"
)

// SetDefaults fills every field the spec left empty and expands the
// strategy and stepWeight/maxWeight into Steps (see expandSteps); each
// generated step's Origin names the field it comes from. It is idempotent:
// generated steps are dropped and generated again.
func SetDefaults(c *Canary) {
	m := &c.Metadata
	if m.Namespace == "" {
		m.Namespace = DefaultNamespace
	}
	s := &c.Spec
	if s.Service == "" {
		s.Service = m.Name
	}
	a := &s.Analysis
	if a.Interval == 0 {
		a.Interval = Duration(DefaultInterval)
	}
	if a.Judge == "" {
		a.Judge = DefaultJudge
	}
	if a.Alpha == 0 {
		a.Alpha = DefaultAlpha
	}
	if a.MinRequests == 0 {
		a.MinRequests = DefaultMinRequests
	}
	if a.FailureLimit == nil {
		a.FailureLimit = ptr(DefaultFailureLimit)
	}
	if a.InconclusiveLimit == nil {
		a.InconclusiveLimit = ptr(DefaultInconclusiveLimit)
	}
	for i := range a.Metrics {
		mt := &a.Metrics[i]
		if mt.Direction == "" {
			mt.Direction = DefaultDirection
		}
		if mt.Tolerance == nil {
			mt.Tolerance = ptr(DefaultTolerance)
		}
	}
	if s.OnFailure == "" {
		s.OnFailure = DefaultOnFailure
	}
	if s.Sync.Engine == "" {
		s.Sync.Engine = DefaultSyncEngine
	}
	if s.Sync.Timeout == 0 {
		s.Sync.Timeout = Duration(DefaultSyncTimeout)
	}
	if s.Git.Mode == "" {
		s.Git.Mode = DefaultGitMode
	}
	setStrategyDefaults(s)
	s.Steps = expandSteps(s)
}

func ptr[T any](v T) *T { return &v }
