package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/backend"
)

// adminFlags are the flags every operator command shares.
type adminFlags struct {
	dsn       string
	masterKey string
	output    string
}

// newAdminCommand builds `palisade admin`: operator commands that work on the
// store directly (SPEC §8).
func newAdminCommand() *cobra.Command {
	fl := &adminFlags{}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Operator commands: accounts, credentials, hosts, quotas, platform addresses",
		Args:  cobra.NoArgs,
	}
	cmd.PersistentFlags().StringVar(&fl.dsn, "db", backend.DefaultDSN, "store DSN (sqlite:PATH[?synchronous=full|normal])")
	cmd.PersistentFlags().StringVar(&fl.masterKey, "master-key-file", "", "file holding the master key that encrypts secret keys at rest (default: the database path + .key)")
	cmd.PersistentFlags().StringVarP(&fl.output, "output", "o", "text", "output format: text or json")

	account := parentCommand("account", "Manage accounts",
		fl.leaf("create NAME", "Create an account and its admin credential", cobra.ExactArgs(1),
			func(ctx context.Context, svc *service.Service, args []string) (any, error) {
				c, err := svc.CreateAccount(ctx, args[0])
				return struct{ AccountId, SecretId, SecretKey string }{c.AccountID, c.SecretID, c.SecretKey}, err
			}))

	var credAccount, credRole string
	credCreate := fl.leaf("create", "Add a credential (admin or readonly) to an account", cobra.NoArgs,
		func(ctx context.Context, svc *service.Service, _ []string) (any, error) {
			c, err := svc.CreateCredential(ctx, credAccount, service.Role(credRole))
			return struct{ AccountId, SecretId, SecretKey, Role string }{c.AccountID, c.SecretID, c.SecretKey, string(c.Role)}, err
		})
	credCreate.Flags().StringVar(&credAccount, "account", "", "account id (acc-…)")
	credCreate.Flags().StringVar(&credRole, "role", string(service.RoleReadOnly), "role: admin or readonly")
	_ = credCreate.MarkFlagRequired("account")
	credential := parentCommand("credential", "Manage credentials", credCreate)

	platformKey := parentCommand("platform-key", "Manage platform credentials",
		fl.leaf("create", "Create a platform credential (registers and purges instances of any account)", cobra.NoArgs,
			func(ctx context.Context, svc *service.Service, _ []string) (any, error) {
				c, err := svc.CreatePlatformKey(ctx)
				return struct{ SecretId, SecretKey string }{c.SecretID, c.SecretKey}, err
			}))

	host := parentCommand("host", "Manage hosts",
		fl.leaf("create NAME", "Create a host and its agent credential", cobra.ExactArgs(1),
			func(ctx context.Context, svc *service.Service, args []string) (any, error) {
				h, err := svc.CreateHost(ctx, args[0])
				return struct{ HostId, SecretId, SecretKey string }{h.HostID, h.SecretID, h.SecretKey}, err
			}))

	var quotaAccount string
	var q service.Quotas
	quotaSet := fl.leaf("set", "Override an account's quotas (flags not given keep their value)", cobra.NoArgs,
		func(ctx context.Context, svc *service.Service, _ []string) (any, error) {
			eff, err := svc.SetQuotas(ctx, quotaAccount, q)
			return quotasJSON(eff), err
		})
	qf := quotaSet.Flags()
	qf.StringVar(&quotaAccount, "account", "", "account id (acc-…)")
	qf.IntVar(&q.GroupsPerRegion, "groups-per-region", 0, "security groups per region and project")
	qf.IntVar(&q.PoliciesPerDirection, "policies-per-direction", 0, "policies per direction of a group")
	qf.IntVar(&q.GroupsPerInstance, "groups-per-instance", 0, "security groups bound to one instance")
	qf.IntVar(&q.InstancesPerGroup, "instances-per-group", 0, "instances bound to one group")
	qf.IntVar(&q.ReferencedGroupsPerGroup, "referenced-groups-per-group", 0, "groups one group's policies may reference")
	_ = quotaSet.MarkFlagRequired("account")
	quota := parentCommand("quota", "Manage an account's quotas", quotaSet)

	// changeAddress runs op on the address argument and lists the result.
	changeAddress := func(op func(*service.Service, context.Context, netip.Prefix) error) func(context.Context, *service.Service, []string) (any, error) {
		return func(ctx context.Context, svc *service.Service, args []string) (any, error) {
			p, err := parseAddressArg(args[0])
			if err != nil {
				return nil, err
			}
			if err := op(svc, ctx, p); err != nil {
				return nil, err
			}
			return platformList(ctx, svc, nil)
		}
	}
	pa := parentCommand("platform-address", "Manage platform service addresses (accepted before any group)",
		fl.leaf("add CIDR", "Add a platform service address (metadata, DNS, NTP…)", cobra.ExactArgs(1),
			changeAddress((*service.Service).AddPlatformAddress)),
		fl.leaf("remove CIDR", "Remove a platform service address", cobra.ExactArgs(1),
			changeAddress((*service.Service).RemovePlatformAddress)),
		fl.leaf("list", "List platform service addresses", cobra.NoArgs, platformList))

	cmd.AddCommand(account, credential, platformKey, host, quota, pa)
	return cmd
}

// parentCommand returns a command that only holds subcommands.
func parentCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	cmd.AddCommand(subs...)
	return cmd
}

// leaf returns a command that runs fn on the store named by the flags, read
// when it runs, and prints fn's result.
func (fl *adminFlags) leaf(use, short string, args cobra.PositionalArgs, fn func(ctx context.Context, svc *service.Service, args []string) (any, error)) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, args []string) error {
		return withService(cmd, *fl, func(ctx context.Context, svc *service.Service) (any, error) { return fn(ctx, svc, args) })
	}}
}

func parseAddressArg(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR block", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR block", s)
	}
	return p.Masked(), nil
}

func platformList(ctx context.Context, svc *service.Service, _ []string) (any, error) {
	ps, err := svc.PlatformAddresses(ctx)
	out := struct{ PlatformAddresses []string }{PlatformAddresses: []string{}}
	for _, p := range ps {
		out.PlatformAddresses = append(out.PlatformAddresses, p.String())
	}
	return out, err
}

func quotasJSON(q service.Quotas) any {
	return struct {
		GroupsPerRegion, PoliciesPerDirection, GroupsPerInstance, InstancesPerGroup, ReferencedGroupsPerGroup int
	}{q.GroupsPerRegion, q.PoliciesPerDirection, q.GroupsPerInstance, q.InstancesPerGroup, q.ReferencedGroupsPerGroup}
}

// withService opens the store, runs fn and prints its result.
func withService(cmd *cobra.Command, fl adminFlags, fn func(context.Context, *service.Service) (any, error)) error {
	if fl.output != "text" && fl.output != "json" {
		return fmt.Errorf("output %q: want text or json", fl.output)
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := backend.OpenWith(fl.dsn, backend.Options{MasterKeyFile: fl.masterKey, Logger: logger})
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := fn(cmd.Context(), service.New(st, service.Options{}))
	if err != nil {
		return err
	}
	return printResult(cmd.OutOrStdout(), fl.output, v)
}

// printResult prints v as indented JSON, or as "Key: value" lines.
func printResult(w io.Writer, format string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if format == "json" {
		_, err := fmt.Fprintln(w, string(b))
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Field order of the struct, recovered from the JSON text.
	s := string(b)
	slicesSortByIndex(keys, s)
	for _, k := range keys {
		val := m[k]
		if list, ok := val.([]any); ok {
			parts := make([]string, len(list))
			for i, x := range list {
				parts[i] = fmt.Sprint(x)
			}
			val = strings.Join(parts, ", ")
		}
		if _, err := fmt.Fprintf(w, "%s: %v\n", k, val); err != nil {
			return err
		}
	}
	return nil
}

func slicesSortByIndex(keys []string, s string) {
	pos := func(k string) int { return strings.Index(s, `"`+k+`":`) }
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && pos(keys[j]) < pos(keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}
