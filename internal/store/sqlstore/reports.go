package sqlstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// Reports are committed together: a write reaching a thousand hosts is
// followed by a thousand reports of its revision and as many replay
// records, which one at a time would cost two thousand commits (each
// synced to disk). A Report waits for the commit of its batch, so that its
// return still means it is stored; a batch that fails is committed again
// one report at a time, so that each gets its own result. A report's fn
// may run more than once, as any transaction's may.
//
// Where reports run on the readers' pool (Dialect.ReportsOnReaders), up to
// reportCommitters batches commit at once: a batch costs round trips more
// than the database's work, and a thousand reports in one line took most
// of a second. A report marked store.Urgent (a write request's replay
// record, which its client waits for) goes before the queued ones.

// reportBatchMax bounds the reports of one transaction.
const reportBatchMax = 256

// reportTimeout bounds the commit of one batch.
const reportTimeout = 30 * time.Second

// reportCommitters bounds the batches committing at once on the readers'
// pool.
const reportCommitters = 4

type reportBatch struct {
	mu      sync.Mutex
	queue   []*pendingReport
	urgent  int // the first urgent reports of queue
	running int // the goroutines committing the queue
}

type pendingReport struct {
	fn   func(store.Tx) error
	done chan error
}

// run runs fn through once, with the other reports queued meanwhile, and
// returns its result (or ctx's error: the report may still be committed).
// At most committers goroutines commit at once.
func (b *reportBatch) run(ctx context.Context, fn func(store.Tx) error, committers int, once func(context.Context, func(store.Tx) error) error) error {
	p := &pendingReport{fn: fn, done: make(chan error, 1)}
	b.mu.Lock()
	if store.IsUrgent(ctx) {
		b.queue = slices.Insert(b.queue, b.urgent, p)
		b.urgent++
	} else {
		b.queue = append(b.queue, p)
	}
	if b.running < max(committers, 1) {
		b.running++
		go b.commit(once)
	}
	b.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commit commits the queued reports, a batch at a time, until the queue is
// empty.
func (b *reportBatch) commit(once func(context.Context, func(store.Tx) error) error) {
	for {
		b.mu.Lock()
		n := min(len(b.queue), reportBatchMax)
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.urgent = max(0, b.urgent-n)
		if n == 0 {
			b.running--
			if b.running == 0 {
				b.queue = nil
			}
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
		err := once(ctx, func(tx store.Tx) error {
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
				p.done <- once(ctx, p.fn)
			}
		}
		cancel()
	}
}
