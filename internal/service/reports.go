package service

import (
	"context"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// Hosts' reports are committed together: a write reaching a thousand hosts
// is followed by a thousand reports of its revision, which one at a time
// would cost a thousand commits (each synced to disk). A report waits for
// the commit of its batch, so that its answer still means it is stored;
// a batch that fails is committed again one report at a time, so that each
// report gets its own answer.

// reportBatchMax bounds the reports of one transaction.
const reportBatchMax = 256

// reportTimeout bounds the commit of one batch.
const reportTimeout = 30 * time.Second

type reportBatch struct {
	mu      sync.Mutex
	queue   []*pendingReport
	running bool // a goroutine is committing the queue
}

type pendingReport struct {
	fn   func(store.Tx) error
	done chan error
}

// report runs fn in a Report transaction with the other reports queued
// meanwhile, and returns its result (or ctx's error: the report may still
// be committed).
func (s *Service) report(ctx context.Context, fn func(store.Tx) error) error {
	p := &pendingReport{fn: fn, done: make(chan error, 1)}
	b := &s.reports
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if !b.running {
		b.running = true
		go s.commitReports()
	}
	b.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitReports commits the queued reports, a batch at a time, until the
// queue is empty.
func (s *Service) commitReports() {
	b := &s.reports
	for {
		b.mu.Lock()
		n := min(len(b.queue), reportBatchMax)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		if n == 0 {
			b.queue, b.running = nil, false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
		err := s.st.Report(ctx, func(tx store.Tx) error {
			for _, p := range batch {
				if err := p.fn(tx); err != nil {
					return err
				}
			}
			return nil
		})
		switch {
		case err == nil:
			for _, p := range batch {
				p.done <- nil
			}
		case len(batch) == 1:
			batch[0].done <- err
		default:
			for _, p := range batch {
				p.done <- s.st.Report(ctx, p.fn)
			}
		}
		cancel()
	}
}
