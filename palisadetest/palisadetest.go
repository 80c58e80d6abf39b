// Package palisadetest runs a Palisade server inside a Go test, as
// net/http/httptest runs an HTTP server: a real API handler over a real
// SQLite store in a temporary directory, on a loopback port, shut down and
// removed when the test ends.
//
//	srv := palisadetest.NewServer(t)
//	resp, err := srv.Client.CreateSecurityGroup(ctx, &wire.CreateSecurityGroupRequest{…})
//
// The official Tencent Cloud SDKs work against srv.Endpoint too (scheme
// http), with srv.SecretID and srv.SecretKey.
package palisadetest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/client"
	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/backend"
)

// Region is the region the clients of a Server send.
const Region = "ap-guangzhou"

// Server is a running Palisade server with an admin account.
type Server struct {
	// Endpoint is the server's URL, http://127.0.0.1:PORT.
	Endpoint string
	// Host is Endpoint without the scheme, as the SDK's
	// HttpProfile.Endpoint wants it.
	Host string
	// AccountID, SecretID and SecretKey are the admin account's.
	AccountID, SecretID, SecretKey string
	// Client is a client of the admin account in Region.
	Client *client.Client
	// PlatformSecretID and PlatformSecretKey are a platform credential
	// (RegisterInstances, PurgeInstances of any account).
	PlatformSecretID, PlatformSecretKey string
	// Platform is a client signing with the platform credential in Region.
	Platform *client.Client

	svc *service.Service
}

// Options configure NewServerWith; the zero value is NewServer's.
type Options struct {
	// MaxBodyBytes is the largest request body the server accepts (0: the
	// server's default, 1 MiB).
	MaxBodyBytes int64
}

// NewServer starts a server on a fresh store and registers its shutdown
// with t.Cleanup. Any failure to start is fatal to the test.
func NewServer(t testing.TB) *Server {
	t.Helper()
	return NewServerWith(t, Options{})
}

// NewServerWith is NewServer with options.
func NewServerWith(t testing.TB, o Options) *Server {
	t.Helper()
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "palisade.db") + "?synchronous=normal"
	st, err := backend.Open(dsn)
	if err != nil {
		t.Fatalf("palisadetest: open store: %v", err)
	}
	svc := service.New(st, service.Options{})
	admin, err := svc.CreateAccount(ctx, "admin")
	if err != nil {
		st.Close()
		t.Fatalf("palisadetest: create account: %v", err)
	}
	platform, err := svc.CreatePlatformKey(ctx)
	if err != nil {
		st.Close()
		t.Fatalf("palisadetest: create platform key: %v", err)
	}
	hs := httptest.NewServer(api.NewHandler(api.Options{Service: svc, MaxBodyBytes: o.MaxBodyBytes}))
	t.Cleanup(func() {
		hs.Close()
		st.Close()
	})
	s := &Server{
		Endpoint: hs.URL, Host: strings.TrimPrefix(hs.URL, "http://"),
		AccountID: admin.AccountID, SecretID: admin.SecretID, SecretKey: admin.SecretKey,
		PlatformSecretID: platform.SecretID, PlatformSecretKey: platform.SecretKey,
		svc: svc,
	}
	s.Client = client.New(s.Endpoint, s.SecretID, s.SecretKey, Region)
	s.Platform = client.New(s.Endpoint, s.PlatformSecretID, s.PlatformSecretKey, Region)
	return s
}

// Quotas are the quotas of an account that SetQuotas can raise; a zero
// field keeps its value.
type Quotas = service.Quotas

// SetQuotas overrides quotas of the admin account, as the operator's
// palisade admin quota set does.
func (s *Server) SetQuotas(t testing.TB, q Quotas) {
	t.Helper()
	if _, err := s.svc.SetQuotas(context.Background(), s.AccountID, q); err != nil {
		t.Fatalf("palisadetest: set quotas: %v", err)
	}
}
