package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/client"
)

// The environment variables the client commands read.
const (
	envEndpoint  = "PALISADE_ENDPOINT"
	envSecretID  = "PALISADE_SECRET_ID"
	envSecretKey = "PALISADE_SECRET_KEY"
	envRegion    = "PALISADE_REGION"
	envProfile   = "PALISADE_PROFILE"
	envDB        = "PALISADE_DB"
	envMasterKey = "PALISADE_MASTER_KEY_FILE"
)

// Defaults when neither flags, environment nor profile say otherwise.
const (
	defaultEndpoint = "http://127.0.0.1:7480"
	defaultRegion   = "ap-guangzhou"
	defaultProfile  = "default"
)

// Profile is one named set of connection settings in the config file.
type Profile struct {
	Endpoint  string `json:"Endpoint,omitempty"`
	SecretId  string `json:"SecretId,omitempty"`
	SecretKey string `json:"SecretKey,omitempty"`
	Region    string `json:"Region,omitempty"`
}

// ConfigFile is the config file written by palisade configure:
// {"Profiles": {"default": {...}, "ci": {...}}}.
type ConfigFile struct {
	Profiles map[string]Profile `json:"Profiles"`
}

// globals holds the flags every command shares and how the environment is
// read.
type globals struct {
	getenv    func(string) (string, bool)
	endpoint  string
	secretID  string
	secretKey string
	region    string
	profile   string
	output    string
}

func (g *globals) register(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&g.endpoint, "endpoint", "", "API endpoint (env "+envEndpoint+"; default "+defaultEndpoint+")")
	f.StringVar(&g.secretID, "secret-id", "", "SecretId (env "+envSecretID+")")
	f.StringVar(&g.secretKey, "secret-key", "", "SecretKey (env "+envSecretKey+")")
	f.StringVar(&g.region, "region", "", "region (env "+envRegion+"; default "+defaultRegion+")")
	f.StringVar(&g.profile, "profile", "", "profile of the config file (env "+envProfile+"; default "+defaultProfile+")")
	f.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
}

func (g *globals) env(name string) string {
	if g.getenv == nil {
		return ""
	}
	v, _ := g.getenv(name)
	return v
}

// checkOutput validates -o.
func (g *globals) checkOutput() error {
	if g.output != "text" && g.output != "json" {
		return fmt.Errorf("--output %q: want text or json", g.output)
	}
	return nil
}

// configPath returns the config file's path: $XDG_CONFIG_HOME (or the
// platform's user config directory)/palisade/config.json.
func (g *globals) configPath() (string, error) {
	dir := g.env("XDG_CONFIG_HOME")
	if dir == "" {
		var err error
		if dir, err = os.UserConfigDir(); err != nil {
			return "", fmt.Errorf("config directory: %w", err)
		}
	}
	return filepath.Join(dir, "palisade", "config.json"), nil
}

// profileName is --profile, else PALISADE_PROFILE, else "default"; named
// reports whether it was chosen rather than defaulted.
func (g *globals) profileName() (name string, named bool) {
	if g.profile != "" {
		return g.profile, true
	}
	if v := g.env(envProfile); v != "" {
		return v, true
	}
	return defaultProfile, false
}

// readConfig reads the config file; a missing file is an empty config, a
// file that does not parse is an error naming it.
func readConfig(path string) (ConfigFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ConfigFile{Profiles: map[string]Profile{}}, nil
	}
	if err != nil {
		return ConfigFile{}, fmt.Errorf("read config: %w", err)
	}
	var c ConfigFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return ConfigFile{}, fmt.Errorf("config file %s: %w", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]Profile{}
	}
	return c, nil
}

// writeConfig writes c to path with mode 0600 (its directory 0700),
// replacing the file atomically.
func writeConfig(path string, c ConfigFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// settings resolves the connection settings: flags, then environment, then
// the profile, then the defaults, field by field.
func (g *globals) settings() (Profile, error) {
	path, err := g.configPath()
	if err != nil {
		return Profile{}, err
	}
	cfg, err := readConfig(path)
	if err != nil {
		return Profile{}, err
	}
	name, named := g.profileName()
	prof, ok := cfg.Profiles[name]
	if !ok && named {
		names := make([]string, 0, len(cfg.Profiles))
		for n := range cfg.Profiles {
			names = append(names, n)
		}
		slices.Sort(names)
		return Profile{}, fmt.Errorf("profile %q is not in %s (profiles: %s); palisade configure --profile %s writes it",
			name, path, strings.Join(names, ", "), name)
	}
	pick := func(flag, env, fromProfile, def string) string {
		for _, v := range []string{flag, g.env(env), fromProfile} {
			if v != "" {
				return v
			}
		}
		return def
	}
	return Profile{
		Endpoint:  pick(g.endpoint, envEndpoint, prof.Endpoint, defaultEndpoint),
		SecretId:  pick(g.secretID, envSecretID, prof.SecretId, ""),
		SecretKey: pick(g.secretKey, envSecretKey, prof.SecretKey, ""),
		Region:    pick(g.region, envRegion, prof.Region, defaultRegion),
	}, nil
}

// client returns an API client for the resolved settings.
func (g *globals) client() (*client.Client, error) {
	if err := g.checkOutput(); err != nil {
		return nil, err
	}
	p, err := g.settings()
	if err != nil {
		return nil, err
	}
	if p.SecretId == "" || p.SecretKey == "" {
		return nil, fmt.Errorf("no credentials: give --secret-id and --secret-key, set %s and %s, or run palisade configure", envSecretID, envSecretKey)
	}
	return client.New(p.Endpoint, p.SecretId, p.SecretKey, p.Region), nil
}
