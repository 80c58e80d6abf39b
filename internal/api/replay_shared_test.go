package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// replicaPair starts two handlers, as two replicas of the server would run,
// with their own in-process caches and, when shared, one SignatureLog over
// one store.
func replicaPair(t *testing.T, shared bool) (a, b *httptest.Server) {
	t.Helper()
	var log Signatures
	if shared {
		st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		log = service.NewSignatureLog(st, nil)
	}
	start := func() *httptest.Server {
		svc := &credService{creds: map[string]service.Credential{
			testID: {SecretID: testID, SecretKey: testKey, AccountID: "acc-00000001", Role: service.RoleAdmin},
		}}
		srv := httptest.NewServer(NewHandler(Options{Service: svc, Signatures: log, Logger: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		return srv
	}
	return start(), start()
}

// TestReplayAcrossReplicas: with a shared SignatureLog, a signature one
// replica accepted is refused by the other as the in-process cache refuses
// it on one; without it, the other replica cannot tell.
func TestReplayAcrossReplicas(t *testing.T) {
	type send struct {
		toB    bool
		action string
		want   string
	}
	tests := []struct {
		name   string
		shared bool
		body   string
		sends  []send
	}{
		{"a write accepted by one replica is refused by the other", true, `{"Row":1}`, []send{
			{false, "CreateDefaultSecurityGroup", ""},
			{true, "CreateDefaultSecurityGroup", codeReplayedSignature},
			{false, "CreateDefaultSecurityGroup", codeReplayedSignature},
		}},
		{"a read answered again by the other replica", true, `{"Row":2}`, []send{
			{false, "DescribeSecurityGroupLimits", ""},
			{true, "DescribeSecurityGroupLimits", ""},
		}},
		{"a read's signature refused for another action on the other replica", true, `{"Row":3}`, []send{
			{false, "DescribeSecurityGroupLimits", ""},
			{true, "CreateDefaultSecurityGroup", codeReplayedSignature},
			{true, "DescribeSecurityGroups", codeReplayedSignature},
		}},
		{"without a shared log the other replica cannot tell", false, `{"Row":4}`, []send{
			{false, "CreateDefaultSecurityGroup", ""},
			{true, "CreateDefaultSecurityGroup", ""},
			{true, "CreateDefaultSecurityGroup", codeReplayedSignature},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := replicaPair(t, tt.shared)
			ts := time.Now().Unix()
			for i, s := range tt.sends {
				srv := a
				if s.toB {
					srv = b
				}
				// The Node.js SDK signs neither the action nor the port:
				// the same body and time sign identically for both.
				if got := envelopeCode(t, nodeRequest(t, srv, s.action, tt.body, testID, testKey, ts)); got != s.want {
					t.Errorf("send %d (%s to replica %s): code %q, want %q", i, s.action, map[bool]string{false: "A", true: "B"}[s.toB], got, s.want)
				}
			}
		})
	}
}

// brokenLog fails every Remember.
type brokenLog struct{}

func (brokenLog) Remember(context.Context, string, string, bool, time.Time) (service.RememberedSignature, bool, error) {
	return service.RememberedSignature{}, false, errors.New("database unreachable")
}

// TestSharedReplayFailsClosed: a write is refused when the shared log
// cannot be reached; a read that signs its action does not need it.
func TestSharedReplayFailsClosed(t *testing.T) {
	svc := &credService{creds: map[string]service.Credential{
		testID: {SecretID: testID, SecretKey: testKey, AccountID: "acc-00000001", Role: service.RoleAdmin},
	}}
	srv := httptest.NewServer(NewHandler(Options{Service: svc, Signatures: brokenLog{}, Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	if got := envelopeCode(t, nodeRequest(t, srv, "CreateDefaultSecurityGroup", "{}", testID, testKey, time.Now().Unix())); got != codeInternalError {
		t.Errorf("a write with the log unreachable: code %q, want %s", got, codeInternalError)
	}
	if got := envelopeCode(t, nodeRequest(t, srv, "DescribeSecurityGroupLimits", `{"Limit":1}`, testID, testKey, time.Now().Unix())); got != codeInternalError {
		t.Errorf("a read not signing its action with the log unreachable: code %q, want %s", got, codeInternalError)
	}
	code, _, _ := rawCall(t, srv, "POST", "DescribeSecurityGroupLimits", "vpc", "{}", func(r *http.Request) {
		client.SignWithAction(r, []byte("{}"), testID, testKey, "vpc", time.Now())
	})
	if code != "" {
		t.Errorf("a read signing its action with the log unreachable: code %q, want an answer", code)
	}
}
