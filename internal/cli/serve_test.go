package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/client"
)

// startServe runs Serve on 127.0.0.1:0 and returns its address, what it
// printed by the time it was ready, and a stop function that cancels it and
// returns Serve's error.
func startServe(t *testing.T, cfg ServeConfig) (string, string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	cfg.Listen = "127.0.0.1:0"
	cfg.Ready = func(a net.Addr) { ready <- a }
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, &out, slog.New(slog.DiscardHandler)) }()
	select {
	case a := <-ready:
		stop := func() error {
			cancel()
			select {
			case err := <-done:
				return err
			case <-time.After(15 * time.Second):
				t.Fatal("Serve did not return after cancel")
				return nil
			}
		}
		return a.String(), out.String(), stop
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("Serve did not become ready")
	}
	return "", "", nil
}

var credLine = regexp.MustCompile(`SecretId:\s+(\S+)\s+SecretKey:\s+(\S+)`)

func TestServeBootstrapsOnceAndShutsDown(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "palisade.db")
	addr, printed, stop := startServe(t, ServeConfig{DSN: dsn, PlatformAddresses: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}})
	m := credLine.FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("first start printed no credentials: %q", printed)
	}
	c := client.New(addr, m[1], m[2], "ap-guangzhou")
	var limits struct {
		SecurityGroupLimitSet struct{ SecurityGroupLimit int }
	}
	if err := c.Call(context.Background(), "vpc", "2017-03-12", "DescribeSecurityGroupLimits", nil, &limits); err != nil {
		t.Fatalf("the printed credentials do not work: %v", err)
	}
	if limits.SecurityGroupLimitSet.SecurityGroupLimit != 50 {
		t.Errorf("limits = %+v", limits)
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}

	// Second start on the same store: no new admin, the old one still works.
	addr, printed, stop = startServe(t, ServeConfig{DSN: dsn})
	defer stop()
	if credLine.MatchString(printed) {
		t.Errorf("second start printed credentials again: %q", printed)
	}
	c = client.New(addr, m[1], m[2], "ap-guangzhou")
	if err := c.Call(context.Background(), "vpc", "2017-03-12", "DescribeSecurityGroupLimits", nil, nil); err != nil {
		t.Errorf("admin after restart: %v", err)
	}
}

func TestServeDemo(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "palisade.db")
	addr, printed, stop := startServe(t, ServeConfig{DSN: dsn, Demo: true})
	defer stop()
	all := credLine.FindAllStringSubmatch(printed, -1)
	if len(all) != 2 {
		t.Fatalf("want admin and demo credentials, printed %q", printed)
	}
	demo := client.New(addr, all[1][1], all[1][2], "ap-guangzhou")
	var groups struct{ TotalCount int }
	if err := demo.Call(context.Background(), "vpc", "2017-03-12", "DescribeSecurityGroups", nil, &groups); err != nil {
		t.Fatal(err)
	}
	if groups.TotalCount == 0 {
		t.Error("the demo account has no groups")
	}
}

func TestParseRegions(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    int
		wantErr bool
	}{
		{"one", []string{"ap-beijing=ap-beijing-1,ap-beijing-2"}, 1, false},
		{"two in one flag", []string{"ap-beijing=ap-beijing-1;ap-chengdu=ap-chengdu-1"}, 2, false},
		{"repeated", []string{"ap-beijing=ap-beijing-1", "ap-chengdu=ap-chengdu-1"}, 2, false},
		{"no zones", []string{"ap-beijing"}, 0, true},
		{"no name", []string{"=z"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRegions(tt.in)
			if (err != nil) != tt.wantErr || len(got) != tt.want {
				t.Errorf("parseRegions(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}
