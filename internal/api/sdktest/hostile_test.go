package sdktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/service"
)

// emptyPolicies returns n empty policies, the cheapest invalid request body.
func emptyPolicies(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{}
	}
	return out
}

// A request with far more policies than a direction may hold is refused
// before its policies are validated, with a short error; one within the
// quota but full of bad policies names a few and counts the rest.
func TestHostilePolicyCountsGetSmallErrors(t *testing.T) {
	e := newEnv(t, envOptions{quotas: service.Quotas{PoliciesPerDirection: 1000}})
	g := e.group("web", nil, nil)
	before := e.describe(e.vpc(), g)

	err := e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{
		"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Ingress": emptyPolicies(100_000)}}, nil)
	if code(err) != "InvalidParameterValue.LimitExceeded" || len(message(err)) > 300 {
		t.Errorf("100,000 empty policies: %s, %d-byte message %.200q; want InvalidParameterValue.LimitExceeded, short", code(err), len(message(err)), message(err))
	}
	err = e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{
		"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Ingress": emptyPolicies(5_000)}}, nil)
	if code(err) != "LimitExceeded.SecurityGroupPolicySet" || len(message(err)) > 300 {
		t.Errorf("5,000 empty policies, quota 1,000: %s, %d-byte message %.200q; want LimitExceeded.SecurityGroupPolicySet, short", code(err), len(message(err)), message(err))
	}

	err = e.call(e.admin, gz, "vpc", "CreateSecurityGroupPolicies", map[string]any{
		"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Ingress": emptyPolicies(900)}}, nil)
	msg := message(err)
	if code(err) != "MissingParameter" || len(msg) > 4000 || !strings.Contains(msg, "895 more policies are invalid (900 in all)") {
		t.Errorf("900 empty policies: %s, %d-byte message %q; want MissingParameter naming 5 and counting 895", code(err), len(msg), msg)
	}
	if after := e.describe(e.vpc(), g); *after.Version != *before.Version || len(after.Ingress) != 0 {
		t.Errorf("the refused requests changed the group: Version %s, %d policies", *after.Version, len(after.Ingress))
	}
}

// Sixteen clients sending hostile requests at once keep the server's memory
// and its health check's latency bounded: lists too long to be decoded, and
// the longest lists that are decoded (with the quota raised to admit them),
// all invalid.
func TestHostileRequestsKeepTheServerResponsive(t *testing.T) {
	for _, tt := range []struct {
		name     string
		policies int
		code     string
	}{
		{"100,000 policies", 100_000, "InvalidParameterValue.LimitExceeded"},
		{"20,000 policies", 20_000, "MissingParameter"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := hostile(t, tt.policies, tt.code)
			t.Logf("%d requests of %d empty policies from 16 clients: heap in use peaked at %d MB; /healthz p50 %v p99 %v over %d checks",
				r.requests, tt.policies, r.peakHeap>>20, r.p50, r.p99, r.checks)
			if r.peakHeap > 300<<20 {
				t.Errorf("heap in use peaked at %d MB, want below 300 MB", r.peakHeap>>20)
			}
			// The 50 ms target is measured by BenchmarkHostileHealth on a
			// quiet machine; here, beside the other tests and perhaps under
			// the race detector, only a stall is an error.
			if r.p99 > time.Second {
				t.Errorf("/healthz p99 %v under load, want well below a second", r.p99)
			}
		})
	}
}

// BenchmarkHostileHealth reports the health check's latency and the heap's
// peak while 16 clients send 32 requests of 20,000 invalid policies, each
// decoded and validated.
func BenchmarkHostileHealth(b *testing.B) {
	var p99, peak float64
	for range b.N {
		r := hostile(b, 20_000, "MissingParameter")
		p99 = max(p99, float64(r.p99.Microseconds())/1000)
		peak = max(peak, float64(r.peakHeap>>20))
	}
	b.ReportMetric(p99, "healthz-p99-ms")
	b.ReportMetric(peak, "peak-heap-MB")
}

// hostileResult is what hostile measured.
type hostileResult struct {
	requests int64
	peakHeap uint64
	p50, p99 time.Duration
	checks   int
}

// hostile runs 16 clients, each sending the same invalid request of n
// policies twice (the load at which an earlier server took 2.4 GB), while
// the health check is timed every few milliseconds.
func hostile(t testing.TB, policies int, wantCode string) hostileResult {
	e := newEnv(t, envOptions{quotas: service.Quotas{PoliciesPerDirection: 100_000}})
	g := e.group("web", nil, nil)
	body, err := json.Marshal(map[string]any{"SecurityGroupId": g, "SecurityGroupPolicySet": map[string]any{"Ingress": emptyPolicies(policies)}})
	if err != nil {
		t.Fatal(err)
	}
	// The clients send one encoded body, signed afresh each time (as an
	// attacker would), so that what is measured is the server's work.
	var nonce atomic.Int64
	send := func() (string, error) {
		// A field of its own makes each body, and so each signature, new:
		// the replay cache refuses a write's signature seen before.
		b := append(fmt.Appendf(nil, `{"Nonce":%d,`, nonce.Add(1)), body[1:]...)
		r, err := http.NewRequest(http.MethodPost, "http://"+e.endpoint+"/", bytes.NewReader(b))
		if err != nil {
			return "", err
		}
		r.Header.Set(client.HeaderAction, "CreateSecurityGroupPolicies")
		r.Header.Set(client.HeaderVersion, version)
		r.Header.Set(client.HeaderRegion, gz)
		client.Sign(r, b, e.admin.id, e.admin.key, "vpc", time.Now())
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var out struct {
			Response struct {
				Error struct{ Code, Message string }
			}
		}
		if err := json.NewDecoder(io.LimitReader(res.Body, 8000)).Decode(&out); err != nil {
			return "", fmt.Errorf("response of more than 8,000 bytes or not JSON: %w", err)
		}
		return out.Response.Error.Code, nil
	}
	health := func() (time.Duration, error) {
		t0 := time.Now()
		res, err := http.Get("http://" + e.endpoint + "/healthz")
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return time.Since(t0), nil
	}
	if _, err := health(); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	done := make(chan struct{})
	var peak uint64
	var lat []time.Duration
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			default:
			}
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			if d, err := health(); err == nil {
				lat = append(lat, d)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var clients sync.WaitGroup
	var sent atomic.Int64
	for range 16 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for range 2 {
				if code, err := send(); err != nil || code != wantCode {
					t.Errorf("hostile request: %s, %v; want %s", code, err, wantCode)
					return
				}
				sent.Add(1)
			}
		}()
	}
	clients.Wait()
	close(done)
	sampler.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		t.Fatal("no health check was answered")
	}
	return hostileResult{requests: sent.Load(), peakHeap: peak, p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], checks: len(lat)}
}
