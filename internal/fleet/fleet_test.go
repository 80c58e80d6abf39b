package fleet

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestBenchSmall runs the whole benchmark on a small fleet over one server
// and checks what it reports.
func TestBenchSmall(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	srv := httptest.NewServer(api.NewHandler(api.Options{Service: svc}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	creds, err := Seed(ctx, svc, 3)
	if err != nil {
		t.Fatal(err)
	}
	o := BenchOptions{Instances: 12, GroupSize: 6, Writes: 4, Writers: 2, Duration: 500 * time.Millisecond, Timeout: 20 * time.Second}
	lay, err := Lay(ctx, creds, srv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(lay.Groups) != 2 || len(lay.Instances) != 12 {
		t.Fatalf("layout: %d groups, %d instances; want 2 and 12", len(lay.Groups), len(lay.Instances))
	}
	for g, hosts := range lay.GroupHosts {
		if len(hosts) != 3 {
			t.Errorf("group %d spans hosts %v, want all 3", g, hosts)
		}
	}
	f, err := Start(creds, []string{srv.URL}, AgentOptions{WatchWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	res, err := Bench(ctx, creds, []string{srv.URL}, lay, f, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Writes != 4 || res.Groups != 2 || res.HostsPerWrite != 3 || res.Agents != 3 || res.Replicas != 1 {
		t.Errorf("result %+v: want 4 writes, 2 groups, 3 hosts per write, 3 agents, 1 replica", res)
	}
	if res.PropagationMs.P50 <= 0 || res.PropagationMs.Max < res.PropagationMs.P50 {
		t.Errorf("propagation %+v: want 0 < p50 <= max", res.PropagationMs)
	}
	if res.ThroughputWrites == 0 || res.ThroughputErrors != 0 {
		t.Errorf("throughput phase: %d writes, %d errors; want some writes and no error", res.ThroughputWrites, res.ThroughputErrors)
	}
	// Every agent holds the last write.
	head, err := lastRevision(ctx, newAdmin(srv.URL, creds), lay.Groups)
	if err != nil {
		t.Fatal(err)
	}
	if behind := f.Behind([]int{0, 1, 2}, head); len(behind) > 0 {
		t.Errorf("agents %v do not hold revision %d after the benchmark", behind, head)
	}
}

func TestSpread(t *testing.T) {
	msd := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Spread
	}{
		{"none", nil, Spread{}},
		{"one", msd(7), Spread{7, 7, 7, 7}},
		{"unsorted ten", msd(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), Spread{P50: 5, P90: 9, P99: 10, Max: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := spread(tc.in); got != tc.want {
				t.Errorf("spread(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}
