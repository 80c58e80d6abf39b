package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	vpc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc/v20170312"
)

// testPKI writes a CA and a server certificate for 127.0.0.1 and
// localhost, signed by it, into dir; it returns the CA pool and the
// certificate and key files.
func testPKI(t *testing.T, dir string) (*x509.CertPool, string, string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Palisade test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "palisade"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, certFile, keyFile
}

// serveAt runs Serve with cfg as given (its Listen kept) until the test
// ends; it returns the bound address and what Serve printed, or Serve's
// error if it stopped before being ready.
func serveAt(t *testing.T, cfg ServeConfig) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	cfg.Ready = func(a net.Addr) { ready <- a }
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, &out, slog.New(slog.DiscardHandler)) }()
	select {
	case a := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
		return a.String(), out.String(), nil
	case err := <-done:
		cancel()
		return "", out.String(), err
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("Serve did not become ready")
	}
	return "", "", nil
}

// TestServeTLSWithTheSDK: with --tls-cert and --tls-key the official SDK
// reaches the API over HTTPS with the test CA trusted, and plain HTTP to
// the same port gets no API answer.
func TestServeTLSWithTheSDK(t *testing.T) {
	dir := t.TempDir()
	pool, certFile, keyFile := testPKI(t, dir)
	addr, printed, err := serveAt(t, ServeConfig{Listen: "127.0.0.1:0", DSN: "sqlite:" + filepath.Join(dir, "palisade.db"),
		TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !strings.Contains(printed, "https://"+addr) || !strings.Contains(printed, "Scheme to https") {
		t.Errorf("Serve printed %q, want the https endpoint", printed)
	}
	m := credLine.FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("no credentials printed: %q", printed)
	}
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = addr
	prof.HttpProfile.Scheme = "https"
	c, err := vpc.NewClient(common.NewCredential(m[1], m[2]), "ap-guangzhou", prof)
	if err != nil {
		t.Fatal(err)
	}
	c.WithHttpTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	req := vpc.NewCreateSecurityGroupRequest()
	req.GroupName, req.GroupDescription = common.StringPtr("web"), common.StringPtr("over TLS")
	res, err := c.CreateSecurityGroup(req)
	if err != nil {
		t.Fatalf("CreateSecurityGroup over HTTPS: %v", err)
	}
	if id := *res.Response.SecurityGroup.SecurityGroupId; !strings.HasPrefix(id, "sg-") {
		t.Errorf("SecurityGroupId = %q", id)
	}

	// Without the CA the certificate is not trusted.
	untrusting, _ := vpc.NewClient(common.NewCredential(m[1], m[2]), "ap-guangzhou", prof)
	untrusting.WithHttpTransport(&http.Transport{})
	if _, err := untrusting.DescribeSecurityGroupLimits(vpc.NewDescribeSecurityGroupLimitsRequest()); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA: %v, want a certificate error", err)
	}
	// Plain HTTP to the TLS port is not served.
	if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
		if res.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP /healthz on the TLS port: HTTP %d, want no answer", res.StatusCode)
		}
		res.Body.Close()
	}
}

// TestServePlainHTTPOnlyOnLoopback: plain HTTP on an address that is not
// loopback is refused unless --insecure-http; TLS files come in pairs.
func TestServePlainHTTPOnlyOnLoopback(t *testing.T) {
	dir := t.TempDir()
	_, certFile, keyFile := testPKI(t, dir)
	dsn := "sqlite:" + filepath.Join(dir, "palisade.db")
	tests := []struct {
		name    string
		cfg     ServeConfig
		wantErr string // "" when it serves
	}{
		{name: "all addresses without TLS", cfg: ServeConfig{Listen: "0.0.0.0:0"}, wantErr: "--insecure-http"},
		{name: "all addresses, insecure HTTP", cfg: ServeConfig{Listen: "0.0.0.0:0", InsecureHTTP: true}},
		{name: "all addresses with TLS", cfg: ServeConfig{Listen: "0.0.0.0:0", TLSCert: certFile, TLSKey: keyFile}},
		{name: "loopback without TLS", cfg: ServeConfig{Listen: "127.0.0.1:0"}},
		{name: "localhost without TLS", cfg: ServeConfig{Listen: "localhost:0"}},
		{name: "certificate without key", cfg: ServeConfig{Listen: "127.0.0.1:0", TLSCert: certFile}, wantErr: "--tls-cert needs --tls-key"},
		{name: "key without certificate", cfg: ServeConfig{Listen: "127.0.0.1:0", TLSKey: keyFile}, wantErr: "--tls-key needs --tls-cert"},
		{name: "key file that is no key", cfg: ServeConfig{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: certFile}, wantErr: "--tls-cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.DSN = dsn
			_, _, err := serveAt(t, tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Serve(%s): %v, want it to serve", tt.cfg.Listen, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Serve(%s): %v, want an error naming %s", tt.cfg.Listen, err, tt.wantErr)
			}
		})
	}
}

// TestServeTLSFlags: the serve command takes --tls-cert, --tls-key and
// --insecure-http.
func TestServeTLSFlags(t *testing.T) {
	cmd := newServeCommand(&globals{getenv: func(string) (string, bool) { return "", false }})
	if err := cmd.ParseFlags([]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--insecure-http"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"tls-cert": "c.pem", "tls-key": "k.pem", "insecure-http": "true"} {
		if got := cmd.Flags().Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
}
