package agent

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/wire"
)

// Failover is a Source over several servers (replicas over one database):
// each request goes to the server that last answered, and to the next ones
// in turn when it fails. Revisions are the database's, so an agent resumes
// on any replica from the revision it holds.
type Failover struct {
	servers []Source
	mu      sync.Mutex
	cur     int
}

// NewFailover returns a Source over servers, tried in order.
func NewFailover(servers ...Source) (*Failover, error) {
	if len(servers) == 0 {
		return nil, errors.New("no server")
	}
	return &Failover{servers: servers}, nil
}

func call[T any](ctx context.Context, f *Failover, do func(Source) (*T, error)) (*T, error) {
	f.mu.Lock()
	start := f.cur
	f.mu.Unlock()
	var errs []error
	for i := range f.servers {
		n := (start + i) % len(f.servers)
		out, err := do(f.servers[n])
		if err == nil {
			f.mu.Lock()
			f.cur = n
			f.mu.Unlock()
			return out, nil
		}
		if ctx.Err() != nil || !unreachable(err) {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// unreachable reports whether err says the server did not answer, or
// answered that it cannot serve (an internal error: its database is
// unreachable, say), rather than refused the request: only then is the
// next server tried.
func unreachable(err error) bool {
	var api *client.Error
	return !errors.As(err, &api) || strings.HasPrefix(api.Code, "InternalError")
}

func (f *Failover) DescribeHostState(ctx context.Context, req *wire.DescribeHostStateRequest) (*wire.DescribeHostStateResponse, error) {
	return call(ctx, f, func(s Source) (*wire.DescribeHostStateResponse, error) { return s.DescribeHostState(ctx, req) })
}

func (f *Failover) WatchHostState(ctx context.Context, req *wire.WatchHostStateRequest) (*wire.WatchHostStateResponse, error) {
	return call(ctx, f, func(s Source) (*wire.WatchHostStateResponse, error) { return s.WatchHostState(ctx, req) })
}

func (f *Failover) ReportHostStatus(ctx context.Context, req *wire.ReportHostStatusRequest) (*wire.ReportHostStatusResponse, error) {
	return call(ctx, f, func(s Source) (*wire.ReportHostStatusResponse, error) { return s.ReportHostStatus(ctx, req) })
}
