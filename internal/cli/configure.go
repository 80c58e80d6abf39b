package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

func newConfigureCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "configure [--profile NAME] [--endpoint URL] [--secret-id ID] [--secret-key KEY] [--region R]",
		Short: "Write a profile (endpoint, credentials, region) to the config file, mode 0600",
		Long: `Write a named profile to the config file: $XDG_CONFIG_HOME/palisade/config.json,
else the user config directory's palisade/config.json (on Linux
~/.config/palisade/config.json), mode 0600.

Values come from the flags; a value not given keeps the profile's current
one, and on a terminal it is asked for. The client commands pick a
profile with --profile or PALISADE_PROFILE ("default" otherwise); flags and
environment variables win over the profile's values.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := g.configPath()
			if err != nil {
				return err
			}
			cfg, err := readConfig(path)
			if err != nil {
				return err
			}
			name, _ := g.profileName()
			p := cfg.Profiles[name]
			in := cmd.InOrStdin()
			f, isFile := in.(*os.File)
			interactive := isFile && isatty.IsTerminal(f.Fd())
			r := bufio.NewReader(in)
			for _, x := range []struct {
				label, flag string
				dst         *string
			}{
				{"Endpoint", g.endpoint, &p.Endpoint},
				{"SecretId", g.secretID, &p.SecretId},
				{"SecretKey", g.secretKey, &p.SecretKey},
				{"Region", g.region, &p.Region},
			} {
				switch {
				case x.flag != "":
					*x.dst = x.flag
				case interactive:
					v, err := prompt(cmd.ErrOrStderr(), r, x.label, *x.dst)
					if err != nil {
						return err
					}
					*x.dst = v
				}
			}
			if p.Endpoint == "" {
				p.Endpoint = defaultEndpoint
			}
			if p.Region == "" {
				p.Region = defaultRegion
			}
			cfg.Profiles[name] = p
			if err := writeConfig(path, cfg); err != nil {
				return err
			}
			doc := struct{ Profile, File, Endpoint, Region, SecretId string }{name, path, p.Endpoint, p.Region, p.SecretId}
			return g.emit(cmd, doc, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Wrote profile %q to %s.\n", name, path)
				return err
			})
		}}
	return cmd
}

// prompt asks for one value; an empty answer keeps cur.
func prompt(w io.Writer, r *bufio.Reader, label, cur string) (string, error) {
	shown := cur
	if label == "SecretKey" && cur != "" {
		shown = "****" + cur[max(0, len(cur)-4):]
	}
	fmt.Fprintf(w, "%s [%s]: ", label, shown)
	line, err := r.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read %s: %w", label, err)
	}
	if v := strings.TrimSpace(line); v != "" {
		return v, nil
	}
	return cur, nil
}
