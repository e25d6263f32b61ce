package spec

import (
	"path"
	"time"
)

// Phase is where a rollout stands.
type Phase string

// Phases of a rollout. Succeeded, RolledBack and Failed are terminal for a generation.
const (
	PhaseProgressing    Phase = "Progressing"    // executing steps
	PhaseWaitingForSync Phase = "WaitingForSync" // a weight was committed; waiting for the applier
	PhasePaused         Phase = "Paused"         // waiting for a command or a pause duration
	PhaseSucceeded      Phase = "Succeeded"      // promoted
	PhaseRolledBack     Phase = "RolledBack"     // canary weight set back to 0
	PhaseFrozen         Phase = "Frozen"         // held at its weight until a human acts
	PhaseFailed         Phase = "Failed"         // cannot go on (e.g. manifest unreadable)
)

// Terminal reports whether nothing more happens in this generation without a new canary version.
func (p Phase) Terminal() bool {
	return p == PhaseSucceeded || p == PhaseRolledBack || p == PhaseFailed
}

// StatusDir is where status files live, relative to the repository root.
const StatusDir = ".birdwatch/status"

// SpecDir is the default folder of Canary specs, relative to the repository root.
const SpecDir = ".birdwatch"

// StatusPath returns the repository-relative path of c's status file.
func (c *Canary) StatusPath() string {
	return path.Join(StatusDir, c.Metadata.Namespace, c.Metadata.Name+".yaml")
}

// Status is written by birdwatch only, one file per Canary. A missing file
// means no rollout has started; deleting it restarts the rollout.
type Status struct {
	// Generation is the canary version this rollout is for.
	Generation string `yaml:"generation" json:"generation"`
	// Stable is the version that served production when the rollout started,
	// or, once promoted, the new stable version.
	Stable string `yaml:"stable" json:"stable"`
	// Baseline is the version the canary was compared against: the stable
	// version when the rollout started. Unlike Stable it does not change
	// on promotion. Status files written before it have none; ParseStatus
	// fills it in (read old, write new).
	Baseline string `yaml:"baseline,omitempty" json:"baseline,omitempty"`
	Phase    Phase  `yaml:"phase" json:"phase"`
	// Step is the 0-based index of the step being executed; len(steps) means all steps are done.
	Step int `yaml:"step" json:"step"`
	// Weight is the canary's committed traffic share in percent.
	Weight int `yaml:"weight" json:"weight"`
	// Split says how the traffic manifest holds Weight when it cannot hold
	// it exactly (the replicas provider's whole pods), e.g. "weight 10 is
	// 1 of 3 pods (33%): ..."; empty when exact.
	Split string `yaml:"split,omitempty" json:"split,omitempty"`
	// Hooks is where the webhooks stand: the confirm hook holding the
	// rollout and since when, the gates passed, each hook's last result.
	Hooks *HookState `yaml:"hooks,omitempty" json:"hooks,omitempty"`
	// Routes are the routes birdwatch has put in the traffic manifest, as
	// committed: header routes that send matched requests to the canary and
	// the mirror. Empty after promotion and rollback.
	Routes Routing `yaml:"routes,omitempty" json:"routes,omitempty"`
	// WeightSetAt is when the commit that set Weight (or Routes) was made.
	WeightSetAt *time.Time `yaml:"weightSetAt,omitempty" json:"weightSetAt,omitempty"`
	// AppliedAt is when the applier was seen to have applied Weight.
	AppliedAt *time.Time `yaml:"appliedAt,omitempty" json:"appliedAt,omitempty"`
	// StepStartedAt is when the current step began (for analyze and pause durations).
	StepStartedAt *time.Time `yaml:"stepStartedAt,omitempty" json:"stepStartedAt,omitempty"`
	// LastCheckAt is when the last analysis that changed this status ran.
	LastCheckAt *time.Time `yaml:"lastCheckAt,omitempty" json:"lastCheckAt,omitempty"`
	// Failures and Inconclusives count failed and inconclusive analyses in this generation.
	Failures      int `yaml:"failures" json:"failures"`
	Inconclusives int `yaml:"inconclusives" json:"inconclusives"`
	// Evidence is each metric's sequential test state, carried between invocations.
	Evidence map[string]Evidence `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	// Message says why the rollout is where it is.
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
	// LastAnalysis is the analysis recorded with the last commit.
	LastAnalysis *AnalysisRecord `yaml:"lastAnalysis,omitempty" json:"lastAnalysis,omitempty"`
	// HandledCommands lists the IDs of the most recent commands acted on
	// (at most HandledCommandsLimit), so a redelivered command acts once.
	HandledCommands []string `yaml:"handledCommands,omitempty" json:"handledCommands,omitempty"`
	// History holds the most recent decisions, oldest first, at most HistoryLimit.
	History []HistoryEntry `yaml:"history,omitempty" json:"history,omitempty"`
}

// HistoryLimit caps Status.History.
const HistoryLimit = 30

// HandledCommandsLimit caps Status.HandledCommands.
const HandledCommandsLimit = 20

// AnalysisRecord is the outcome of one analysis, as stored in the status.
type AnalysisRecord struct {
	At          time.Time `yaml:"at" json:"at"`
	WindowStart time.Time `yaml:"windowStart" json:"windowStart"`
	Judge       string    `yaml:"judge" json:"judge"`
	// Traffic is what the canary served in the window: live, matched (header
	// routes only), mirrored (mirror only) or none.
	Traffic string         `yaml:"traffic,omitempty" json:"traffic,omitempty"`
	Verdict string         `yaml:"verdict" json:"verdict"`
	Score   float64        `yaml:"score" json:"score"`
	Metrics []MetricRecord `yaml:"metrics" json:"metrics"`
}

// MetricRecord is one metric's classification in an AnalysisRecord.
// Canary and Baseline are nil when there was no value.
type MetricRecord struct {
	Name           string   `yaml:"name" json:"name"`
	Classification string   `yaml:"classification" json:"classification"`
	Canary         *float64 `yaml:"canary,omitempty" json:"canary,omitempty"`
	Baseline       *float64 `yaml:"baseline,omitempty" json:"baseline,omitempty"`
	Unit           string   `yaml:"unit,omitempty" json:"unit,omitempty"`
	Reason         string   `yaml:"reason,omitempty" json:"reason,omitempty"`
	// LeftOut says what of this look's data was not evidence, and why: a
	// version's window skipped whole ("canary window skipped: ..."), or a
	// pod left out of both its counts ("baseline {pod=...}: appeared
	// mid-window ..."). Evidence.Skips adds them up over the rollout.
	LeftOut []string `yaml:"leftOut,omitempty" json:"leftOut,omitempty"`
}

// HistoryEntry is one decision.
type HistoryEntry struct {
	At       time.Time `yaml:"at" json:"at"`
	Decision string    `yaml:"decision" json:"decision"`
	Step     int       `yaml:"step" json:"step"`
	Weight   int       `yaml:"weight" json:"weight"`
	Trigger  string    `yaml:"trigger,omitempty" json:"trigger,omitempty"`
	Reason   string    `yaml:"reason,omitempty" json:"reason,omitempty"`
}
