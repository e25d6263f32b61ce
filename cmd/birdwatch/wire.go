package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/birdwatch-gitops/birdwatch/analyzer/judge"
	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
	"github.com/birdwatch-gitops/birdwatch/gitops/sync"
)

// judges is the explicit registry of spec.analysis.judge values.
func judges() map[string]judge.Judge {
	js := []judge.Judge{judge.Sequential{}, judge.Threshold{}}
	m := make(map[string]judge.Judge, len(js))
	for _, j := range js {
		m[j.Name()] = j
	}
	return m
}

// syncEngines is the explicit registry of spec.sync.engine values.
func syncEngines() sync.Engines { return sync.Engines{"none": sync.None{}} }

// openRepo opens the Git cache for cfg.
func openRepo(ctx context.Context, cfg *Config) (*repo.Repo, error) {
	if cfg.Repo == "" {
		return nil, fmt.Errorf("no repository: give --repo or BIRDWATCH_REPO")
	}
	token, err := cfg.gitToken()
	if err != nil {
		return nil, err
	}
	return repo.Open(ctx, repo.Options{URL: cfg.Repo, Branch: cfg.Branch, CacheDir: cfg.CacheDir,
		Auth: repo.Auth{Token: token, SSHKeyFile: cfg.SSHKeyFile}})
}

// newEngine wires the loop for cfg. The caller closes the returned repo.
func newEngine(ctx context.Context, cfg *Config, log *slog.Logger) (*core.Engine, *repo.Repo, error) {
	r, err := openRepo(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	e := &core.Engine{Repo: r, Judges: judges(), Sync: syncEngines(), Log: log}
	if cfg.Prometheus != "" {
		p, err := metrics.NewPrometheus(metrics.PrometheusConfig{URL: cfg.Prometheus, Timeout: cfg.PrometheusTimeout})
		if err != nil {
			r.Close()
			return nil, nil, err
		}
		e.Metrics = p
	}
	return e, r, nil
}

// newLogger builds the process logger.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
