//go:build nodecompat

package nodetest

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
)

// TestNodeSDKScenario runs scenario.mjs with the official Node.js SDK
// against a real server over a real SQLite file and fails on any error.
func TestNodeSDKScenario(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the nodecompat tests need it")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "tencentcloud-sdk-nodejs", "package.json")); err != nil {
		t.Fatalf("the Node.js SDK is not installed: run npm ci in internal/api/nodetest (%v)", err)
	}

	st, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{})
	acc, err := svc.CreateAccount(context.Background(), "node")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api.NewHandler(api.Options{Service: svc, Logger: slog.New(slog.DiscardHandler)}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	endpoint := strings.TrimPrefix(srv.URL, "http://")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "scenario.mjs", endpoint, acc.SecretID, acc.SecretKey).CombinedOutput()
	t.Logf("node scenario.mjs %s:\n%s", endpoint, out)
	if err != nil {
		t.Fatalf("the Node.js scenario failed: %v", err)
	}
	if !strings.Contains(string(out), "scenario passed") {
		t.Fatal("the Node.js scenario did not finish")
	}
}
