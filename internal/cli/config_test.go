package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
)

// TestSettingsPrecedence tries every combination of flag, environment and
// profile for each setting: the flag wins, then the environment, then the
// profile, then the default.
func TestSettingsPrecedence(t *testing.T) {
	type field struct {
		name, env, def string
		flag           func(*globals) *string
		prof           func(*Profile) *string
	}
	fields := []field{
		{"Endpoint", envEndpoint, defaultEndpoint, func(g *globals) *string { return &g.endpoint }, func(p *Profile) *string { return &p.Endpoint }},
		{"SecretId", envSecretID, "", func(g *globals) *string { return &g.secretID }, func(p *Profile) *string { return &p.SecretId }},
		{"SecretKey", envSecretKey, "", func(g *globals) *string { return &g.secretKey }, func(p *Profile) *string { return &p.SecretKey }},
		{"Region", envRegion, defaultRegion, func(g *globals) *string { return &g.region }, func(p *Profile) *string { return &p.Region }},
	}
	for _, f := range fields {
		for mask := range 8 {
			hasFlag, hasEnv, hasProf := mask&1 != 0, mask&2 != 0, mask&4 != 0
			name := f.name
			for _, x := range []struct {
				on bool
				s  string
			}{{hasFlag, "+flag"}, {hasEnv, "+env"}, {hasProf, "+profile"}} {
				if x.on {
					name += x.s
				}
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				env := map[string]string{"XDG_CONFIG_HOME": dir}
				if hasEnv {
					env[f.env] = "from-env"
				}
				if hasProf {
					var p Profile
					*f.prof(&p) = "from-profile"
					if err := writeConfig(filepath.Join(dir, "palisade", "config.json"), ConfigFile{Profiles: map[string]Profile{"default": p}}); err != nil {
						t.Fatal(err)
					}
				}
				g := &globals{getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
				if hasFlag {
					*f.flag(g) = "from-flag"
				}
				got, err := g.settings()
				if err != nil {
					t.Fatal(err)
				}
				want := f.def
				switch {
				case hasFlag:
					want = "from-flag"
				case hasEnv:
					want = "from-env"
				case hasProf:
					want = "from-profile"
				}
				var p Profile = got
				if v := *f.prof(&p); v != want {
					t.Errorf("%s = %q, want %q", f.name, v, want)
				}
			})
		}
	}
}

func TestSettingsProfileChoice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "palisade", "config.json")
	if err := writeConfig(path, ConfigFile{Profiles: map[string]Profile{"default": {Region: "r-default"}, "ci": {Region: "r-ci"}, "other": {Region: "r-other"}}}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode: %v %v", fi.Mode(), err)
	}
	tests := []struct {
		name, flag, env, want, wantErr string
	}{
		{name: "default", want: "r-default"},
		{name: "env", env: "ci", want: "r-ci"},
		{name: "flag over env", flag: "other", env: "ci", want: "r-other"},
		{name: "unknown named", flag: "nope", wantErr: `profile "nope" is not in`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"XDG_CONFIG_HOME": dir, envProfile: tt.env}
			g := &globals{profile: tt.flag, getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
			got, err := g.settings()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("settings() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Region != tt.want {
				t.Errorf("settings() = %+v, %v; want region %s", got, err, tt.want)
			}
		})
	}
}

func TestParseCompact(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    string // Policy.String
		wantErr string
	}{
		{"separate args with description", []string{"ACCEPT", "tcp", "22", "10.0.0.0/8", "ssh", "from", "office"}, "ACCEPT TCP 22 10.0.0.0/8 # ssh from office", ""},
		{"quoted description", []string{"accept", "udp", "53", "10.0.0.2", "dns"}, "ACCEPT UDP 53 10.0.0.2 # dns", ""},
		{"hash before description", []string{"DROP", "TCP", "25", "0.0.0.0/0", "#", "no", "mail"}, "DROP TCP 25 0.0.0.0/0 # no mail", ""},
		{"one argument", []string{"DROP ALL ALL ::/0 # all v6"}, "DROP ALL ALL ::/0 # all v6", ""},
		{"service template", []string{"ACCEPT", "ppm-1a2b3c4d", "ipmg-1a2b3c4d", "dns"}, "ACCEPT ppm-1a2b3c4d ipmg-1a2b3c4d # dns", ""},
		{"group peer", []string{"ACCEPT", "TCP", "3306", "sg-1a2b3c4d"}, "ACCEPT TCP 3306 sg-1a2b3c4d", ""},
		{"too few", []string{"ACCEPT", "TCP", "22"}, "", "want ACTION PROTOCOL PORT PEER"},
		{"bad port", []string{"ACCEPT", "TCP", "70000", "0.0.0.0/0"}, "", "70000"},
		{"bad action", []string{"ALLOW", "TCP", "22", "0.0.0.0/0"}, "", "Action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseCompact(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseCompact(%q) error = %v, want %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil || p.String() != tt.want {
				t.Errorf("parseCompact(%q) = %q, %v; want %q", tt.args, p.String(), err, tt.want)
			}
		})
	}
}

func TestTableRowsHeader(t *testing.T) {
	tests := []struct {
		name    string
		header  []string
		withDir bool
		wantErr string
	}{
		{"ok any case and order", []string{"cidrblock", "ACTION", "Direction", "port", "protocol"}, true, ""},
		{"unknown column", []string{"Direction", "Action", "Source"}, true, `"Source"`},
		{"twice", []string{"Direction", "Action", "Port", "port"}, true, "Port given twice"},
		{"no action", []string{"Direction", "Port"}, true, "no Action column"},
		{"no direction in csv", []string{"Action", "Port"}, true, "no Direction column"},
		{"direction not a column in xlsx", []string{"Direction", "Action"}, false, `"Direction"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tableRows([][]string{tt.header}, tt.withDir, func(n int) string { return "" }, policy.Ingress)
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("tableRows(%q) error = %v, want %q", tt.header, err, tt.wantErr)
			}
		})
	}
}

func TestWantsJSON(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"sg", "list", "-o", "json"}, true},
		{[]string{"-ojson", "sg"}, true},
		{[]string{"sg", "--output=json"}, true},
		{[]string{"sg", "--output", "text"}, false},
		{[]string{"call", "X", "--", "-o", "json"}, false},
		{[]string{"sg"}, false},
	}
	for _, tt := range tests {
		if got := wantsJSON(tt.args); got != tt.want {
			t.Errorf("wantsJSON(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:7480", true},
		{"[::1]:0", true},
		{"localhost:7480", true},
		{"127.1.2.3:1", true},
		{"0.0.0.0:7480", false},
		{":7480", false},
		{"10.0.0.5:7480", false},
		{"[::]:7480", false},
		{"example.com:80", false},
		{"nonsense", false},
	}
	for _, tt := range tests {
		if err := checkLoopback(tt.listen); (err == nil) != tt.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", tt.listen, err, tt.ok)
		}
	}
}

// TestProgressOnlyOnTerminal: a pipe, a file or a buffer never gets the
// progress bar.
func TestProgressOnlyOnTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var buf strings.Builder
	for _, w := range []interface{ Write([]byte) (int, error) }{f, &buf} {
		p := newProgress(w, "validating", 10000)
		for i := range 10000 {
			p.set(i + 1)
		}
		if p.on {
			t.Errorf("progress on for %T", w)
		}
	}
	if fi, _ := f.Stat(); fi.Size() != 0 || buf.Len() != 0 {
		t.Errorf("progress printed to a file (%d bytes) or buffer (%q)", fi.Size(), buf.String())
	}
}
