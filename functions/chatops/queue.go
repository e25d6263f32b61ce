package chatops

import (
	"context"
	"log/slog"
	"sync"
)

// Queue defaults for zero QueueOptions fields.
const (
	DefaultQueueSize    = 64
	DefaultQueueWorkers = 2
)

// QueueOptions size a Queue.
type QueueOptions struct {
	// Size is how many jobs may wait; 0 means DefaultQueueSize.
	Size int
	// Workers is how many jobs run at once; 0 means DefaultQueueWorkers.
	Workers int
	// Log receives failed jobs; nil discards.
	Log *slog.Logger
}

// Queue is the in-process Dispatcher of birdwatch serve: a bounded queue
// and worker goroutines that run each job with run. Jobs run on the
// queue's own context, not the request's. It is safe for concurrent use.
type Queue struct {
	run    func(context.Context, Job) error
	jobs   chan Job
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex // guards closed and sends on jobs
	closed bool
}

// NewQueue starts the workers; run is usually (*Runner).Run. Close stops them.
func NewQueue(run func(context.Context, Job) error, o QueueOptions) *Queue {
	if o.Size <= 0 {
		o.Size = DefaultQueueSize
	}
	if o.Workers <= 0 {
		o.Workers = DefaultQueueWorkers
	}
	q := &Queue{run: run, jobs: make(chan Job, o.Size), log: o.Log}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	for range o.Workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// Dispatch queues j without waiting: ErrQueueFull when no room is left,
// ErrQueueClosed after Close.
func (q *Queue) Dispatch(_ context.Context, j Job) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrQueueClosed
	}
	select {
	case q.jobs <- j:
		return nil
	default:
		return ErrQueueFull
	}
}

// Close stops accepting jobs and waits for the queued and running ones to
// finish; when ctx ends first, it cancels their context, waits for them to
// return and returns ctx's error. Close is idempotent.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-done
		return ctx.Err()
	}
}

func (q *Queue) work() {
	defer q.wg.Done()
	for j := range q.jobs {
		if err := q.run(q.ctx, j); err != nil && q.log != nil {
			q.log.Error("chat-ops job failed", "kind", j.Kind, "canary", j.Canary, "actor", j.Actor(),
				"command", j.CommandID(), "error", err)
		}
	}
}
