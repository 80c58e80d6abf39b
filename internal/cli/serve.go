package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/api"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/backend"
)

// ServeConfig configures the API server.
type ServeConfig struct {
	Listen            string           // address to listen on, e.g. 127.0.0.1:7480 (port 0 picks one)
	DSN               string           // store, e.g. sqlite:palisade.db
	MasterKeyFile     string           // master key sealing SecretKeys ("": beside a SQLite database; required for PostgreSQL)
	HistoryRetention  int              // versions of history kept per group (0: service default)
	ExpirySweep       time.Duration    // how often expired policies are removed (0: service.DefaultSweepInterval)
	Regions           []service.Region // nil: the default regions
	PlatformAddresses []netip.Prefix   // platform service addresses, ACCEPTed before any group
	Quotas            service.Quotas   // default quotas (zero fields: the cloud's)
	Demo              bool             // seed the demo account
	// TLSCert and TLSKey are PEM files; with both, the API is served over
	// HTTPS.
	TLSCert, TLSKey string
	// InsecureHTTP allows plain HTTP on an address that is not loopback.
	InsecureHTTP bool
	MaxBodyBytes int64 // largest request body (0: api.DefaultMaxBodyBytes)
	// TrustedProxies are the proxies whose X-Forwarded-For names a
	// request's source address (for lockout protection).
	TrustedProxies []netip.Prefix
	// Bootstrap, if set, is the first admin's credential on an empty store
	// instead of a random one; it is not printed.
	Bootstrap *service.PresetCredential
	// Dev runs a development server: a temporary store deleted on exit,
	// the demo seeded, the fixed development credentials (DevAdmin,
	// DevPlatform) printed; refused on an address that is not loopback.
	Dev bool
	// Ready, if set, is called with the bound address once the server
	// accepts connections.
	Ready func(addr net.Addr)
}

// shutdownGrace is how long in-flight requests may finish after the
// context is cancelled.
const shutdownGrace = 10 * time.Second

// The fixed, well-known development credentials of serve --dev. They
// are public: a --dev server listens on loopback only.
const (
	devAdminSecretID     = "AKIDPALISADEDEVADMIN000000000000"
	devAdminSecretKey    = "palisade-dev-admin-key-0000000000000000"
	devPlatformSecretID  = "AKIDPALISADEDEVPLATFORM000000000"
	devPlatformSecretKey = "palisade-dev-platform-key-00000000000000"
	devDemoSecretID      = "AKIDPALISADEDEVDEMO0000000000000"
	devDemoSecretKey     = "palisade-dev-demo-key-000000000000000000"
)

// Environment variables of serve.
const (
	envBootstrapSecretID  = "PALISADE_BOOTSTRAP_SECRET_ID"
	envBootstrapSecretKey = "PALISADE_BOOTSTRAP_SECRET_KEY"
)

func newServeCommand(g *globals) *cobra.Command {
	cfg := ServeConfig{}
	var regions, platform, trusted []string
	var bootID, bootKey string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server (Tencent Cloud API 3.0 compatible), /metrics and /healthz",
		Long: `Run the API server.

On first start with an empty store it creates an admin account and prints
its credentials once on standard output. Logs go to standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if bootID == "" {
				bootID = g.env(envBootstrapSecretID)
			}
			if bootKey == "" {
				bootKey = g.env(envBootstrapSecretKey)
			}
			switch {
			case (bootID == "") != (bootKey == ""):
				return fmt.Errorf("--bootstrap-secret-id and --bootstrap-secret-key (or %s and %s) go together", envBootstrapSecretID, envBootstrapSecretKey)
			case bootID != "":
				cfg.Bootstrap = &service.PresetCredential{SecretID: bootID, SecretKey: bootKey}
			}
			if cfg.Dev && cmd.Flags().Changed("db") {
				return errors.New("--dev runs on a temporary store: leave out --db")
			}
			if cfg.Regions, err = parseRegions(regions); err != nil {
				return err
			}
			for _, p := range platform {
				pfx, err := parsePlatformAddress(p)
				if err != nil {
					return fmt.Errorf("--platform-address %q: %w", p, err)
				}
				cfg.PlatformAddresses = append(cfg.PlatformAddresses, pfx)
			}
			for _, p := range trusted {
				pfx, err := parsePlatformAddress(p)
				if err != nil {
					return fmt.Errorf("--trusted-proxy %q: %w", p, err)
				}
				cfg.TrustedProxies = append(cfg.TrustedProxies, pfx)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return Serve(cmd.Context(), cfg, cmd.OutOrStdout(), logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:7480", "address to listen on")
	dsn := backend.DefaultDSN
	if v := g.env(envDB); v != "" {
		dsn = v
	}
	f.StringVar(&cfg.DSN, "db", dsn, "store DSN (sqlite:PATH[?synchronous=full|normal] or postgres://…; env "+envDB+")")
	f.StringVar(&cfg.MasterKeyFile, "master-key-file", g.env(envMasterKey), "file holding the master key that encrypts secret keys at rest, created on first start (env "+envMasterKey+"; default for SQLite: the database path + .key; required for PostgreSQL, the same file on every replica)")
	f.IntVar(&cfg.HistoryRetention, "history-retention", service.DefaultHistoryRetention, "versions of history kept per security group")
	f.DurationVar(&cfg.ExpirySweep, "expiry-sweep", service.DefaultSweepInterval, "how often policies past their ExpiresAt are removed as a new version")
	f.StringArrayVar(&regions, "regions", nil, "regions and zones, REGION=ZONE[,ZONE…] (repeatable, or ;-separated); default ap-guangzhou and ap-shanghai")
	f.StringArrayVar(&trusted, "trusted-proxy", nil, "a proxy address or CIDR whose X-Forwarded-For header names the client's address, which lockout protection checks (repeatable; without it, the connection's address)")
	f.StringArrayVar(&platform, "platform-address", nil, "add a platform service address or CIDR that reaches every instance, kept in the store (repeatable; palisade admin platform-address remove takes one away)")
	f.BoolVar(&cfg.Demo, "demo", false, "seed a demo account with hosts, instances, groups and templates")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; needs --tls-key")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	f.BoolVar(&cfg.InsecureHTTP, "insecure-http", false, "allow plain HTTP on an address that is not loopback")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", api.DefaultMaxBodyBytes, "largest request body accepted, in bytes (10,000 policies in one import take about 1.2 MB)")
	f.BoolVar(&cfg.Dev, "dev", false, "development server: temporary store deleted on exit, demo seeded, fixed well-known credentials printed; loopback only")
	f.StringVar(&bootID, "bootstrap-secret-id", "", "SecretId of the first admin on an empty store, instead of a random one (env "+envBootstrapSecretID+")")
	f.StringVar(&bootKey, "bootstrap-secret-key", "", "SecretKey of the first admin on an empty store (env "+envBootstrapSecretKey+")")
	return cmd
}

// parseRegions reads REGION=ZONE[,ZONE…] items.
func parseRegions(items []string) ([]service.Region, error) {
	var out []service.Region
	for _, item := range items {
		for _, part := range strings.Split(item, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, zones, _ := strings.Cut(part, "=")
			r := service.Region{Name: strings.TrimSpace(name)}
			for _, z := range strings.Split(zones, ",") {
				if z = strings.TrimSpace(z); z != "" {
					r.Zones = append(r.Zones, z)
				}
			}
			if r.Name == "" || len(r.Zones) == 0 {
				return nil, fmt.Errorf("--regions %q: want REGION=ZONE[,ZONE…]", part)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// parsePlatformAddress reads a CIDR or a bare address (a /32 or /128).
func parsePlatformAddress(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Serve runs the API server until ctx is cancelled, then shuts it down
// gracefully. First-start admin credentials and demo credentials are printed
// to stdout.
func Serve(ctx context.Context, cfg ServeConfig, stdout io.Writer, logger *slog.Logger) error {
	if cfg.MaxBodyBytes < 0 {
		return fmt.Errorf("max body bytes %d: want a positive size", cfg.MaxBodyBytes)
	}
	if cfg.ExpirySweep < 0 {
		return fmt.Errorf("--expiry-sweep %s: want a positive interval", cfg.ExpirySweep)
	}
	if cfg.HistoryRetention < 0 {
		return fmt.Errorf("history retention %d: want a positive number of versions", cfg.HistoryRetention)
	}
	if cfg.Dev {
		if err := checkLoopback(cfg.Listen); err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "palisade-dev-")
		if err != nil {
			return fmt.Errorf("dev store: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.DSN = "sqlite:" + filepath.Join(dir, "palisade.db") + "?synchronous=normal"
		cfg.MasterKeyFile = ""
		cfg.Demo = true
		if cfg.Bootstrap == nil {
			cfg.Bootstrap = &service.PresetCredential{SecretID: devAdminSecretID, SecretKey: devAdminSecretKey}
		}
		fmt.Fprintf(stdout, "Development mode: a temporary store in %s, deleted on exit. Not for production.\n", dir)
	}
	tlsConfig, err := loadTLS(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	st, err := backend.OpenWith(cfg.DSN, backend.Options{MasterKeyFile: cfg.MasterKeyFile, Logger: logger})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := service.New(st, service.Options{
		Logger:           logger,
		HistoryRetention: cfg.HistoryRetention,
		Regions:          cfg.Regions,
		Quotas:           cfg.Quotas,
	})
	// Platform addresses live in the store, where every replica, agent and
	// operator command sees them: those given on the command line are added
	// (adding one that is there already changes nothing).
	for _, p := range cfg.PlatformAddresses {
		if err := svc.AddPlatformAddress(ctx, p); err != nil {
			return fmt.Errorf("--platform-address %s: %w", p, err)
		}
	}
	if err := bootstrap(ctx, svc, cfg, stdout, logger); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if tlsConfig == nil && !cfg.InsecureHTTP && !isLoopback(ln.Addr()) {
		ln.Close()
		return fmt.Errorf("--listen %s: plain HTTP is served only on loopback addresses, and %s is not one; give --tls-cert and --tls-key to serve HTTPS, or --insecure-http to serve plain HTTP anyway",
			cfg.Listen, ln.Addr())
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		ln = tls.NewListener(ln, tlsConfig)
	}
	// Replicas sharing a store refuse a signature any of them accepted.
	var signatures api.Signatures
	if backend.Shared(cfg.DSN) {
		signatures = service.NewSignatureLog(st, nil)
	}
	srv := &http.Server{
		Handler:           api.NewHandler(api.Options{Service: svc, Logger: logger, MaxBodyBytes: cfg.MaxBodyBytes, TrustedProxies: cfg.TrustedProxies, Signatures: signatures}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Longer than WatchHostState's longest wait (60 s).
		WriteTimeout: 90 * time.Second,
		IdleTimeout:  120 * time.Second,
		ErrorLog:     slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("palisade serving", "addr", ln.Addr().String(), "db", backend.Redacted(cfg.DSN))
	var regions []string
	for _, r := range svc.Regions() {
		regions = append(regions, r.Name)
	}
	fmt.Fprintf(stdout, "Serving the API at %s://%s (regions %s): set the SDK's HttpProfile.Endpoint to %s and Scheme to %s.\n",
		scheme, ln.Addr(), strings.Join(regions, ", "), ln.Addr(), scheme)
	if cfg.Dev {
		fmt.Fprintf(stdout, "Development credentials (fixed, public):\n  admin:    SecretId %s  SecretKey %s\n  demo:     SecretId %s  SecretKey %s\n  platform: SecretId %s  SecretKey %s\n"+
			"Use the demo account (its groups, instances and templates are seeded) with:\n  export PALISADE_ENDPOINT=http://%s PALISADE_SECRET_ID=%s PALISADE_SECRET_KEY=%s\n",
			cfg.Bootstrap.SecretID, cfg.Bootstrap.SecretKey, devDemoSecretID, devDemoSecretKey, devPlatformSecretID, devPlatformSecretKey, ln.Addr(), devDemoSecretID, devDemoSecretKey)
	}
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}

	// Expired policies are removed as recorded versions by the sweeper,
	// stopped before the store closes.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); svc.RunExpirySweeper(sweepCtx, cfg.ExpirySweep) }()
	defer func() { stopSweep(); <-swept }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("palisade shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// loadTLS reads the certificate and key files of --tls-cert and
// --tls-key; with neither it returns nil (plain HTTP).
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "":
		return nil, errors.New("--tls-key needs --tls-cert")
	case keyFile == "":
		return nil, errors.New("--tls-cert needs --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// isLoopback reports whether a listening address accepts loopback
// connections only.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// bootstrap creates the first admin account of an empty store and, when
// asked, the demo account, printing their credentials once.
func bootstrap(ctx context.Context, svc *service.Service, cfg ServeConfig, stdout io.Writer, logger *slog.Logger) error {
	demo := cfg.Demo
	var admin *service.AccountCredentials
	var err error
	if cfg.Bootstrap != nil {
		admin, err = svc.EnsureBootstrapWith(ctx, *cfg.Bootstrap)
	} else {
		admin, err = svc.EnsureBootstrap(ctx)
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if cfg.Dev {
		if _, err := svc.EnsurePlatformKey(ctx, service.PresetCredential{SecretID: devPlatformSecretID, SecretKey: devPlatformSecretKey}); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
	switch {
	case admin != nil && cfg.Bootstrap != nil:
		fmt.Fprintf(stdout, "Created the admin account %s with the preset SecretId %s.\n", admin.AccountID, admin.SecretID)
	case admin != nil:
		fmt.Fprintf(stdout, "Created the admin account %s. Its credentials are shown only now:\n  SecretId:  %s\n  SecretKey: %s\n",
			admin.AccountID, admin.SecretID, admin.SecretKey)
	}
	if !demo {
		return nil
	}
	d, err := seedDemo(ctx, svc)
	if err != nil {
		var se *service.Error
		if errors.As(err, &se) && se.Kind == service.KindDuplicate {
			fmt.Fprintf(stdout, "The demo account %s exists already; its credentials were printed when it was seeded (palisade admin credential create --account %s makes new ones).\n", se.ID, se.ID)
			return nil
		}
		return fmt.Errorf("seed demo: %w", err)
	}
	if cfg.Dev {
		if err := svc.AddPresetCredential(ctx, d.Account.AccountID, service.RoleAdmin, service.PresetCredential{SecretID: devDemoSecretID, SecretKey: devDemoSecretKey}); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
	}
	fmt.Fprintf(stdout, "Seeded the demo account %s (%d instances, %d groups):\n  SecretId:  %s\n  SecretKey: %s\n",
		d.Account.AccountID, len(d.InstanceIDs), len(d.GroupIDs), d.Account.SecretID, d.Account.SecretKey)
	return nil
}

// checkLoopback refuses a listen address that is not loopback.
func checkLoopback(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", listen, err)
	}
	if host == "localhost" {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--dev serves fixed, public credentials: it listens on a loopback address only, not %q", listen)
}
