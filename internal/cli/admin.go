package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store/backend"
)

// adminFlags are the flags every operator command shares.
type adminFlags struct {
	dsn       string
	masterKey string
	g         *globals
}

// newAdminCommand builds `palisade admin`: operator commands that work on the
// store directly (SPEC §8).
func newAdminCommand(g *globals) *cobra.Command {
	fl := &adminFlags{g: g}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Operator commands: accounts, credentials, hosts, quotas, platform addresses",
		Args:  cobra.NoArgs,
		RunE:  runHelp,
	}
	dsn := backend.DefaultDSN
	if v := g.env(envDB); v != "" {
		dsn = v
	}
	cmd.PersistentFlags().StringVar(&fl.dsn, "db", dsn, "store DSN (sqlite:PATH[?synchronous=full|normal] or postgres://…; env "+envDB+")")
	cmd.PersistentFlags().StringVar(&fl.masterKey, "master-key-file", g.env(envMasterKey), "file holding the master key that encrypts secret keys at rest (env "+envMasterKey+"; default for SQLite: the database path + .key; required for PostgreSQL)")

	account := parentCommand("account", "Manage accounts",
		fl.leaf("create NAME", "Create an account and its admin credential", cobra.ExactArgs(1),
			func(ctx context.Context, svc *service.Service, args []string) (any, error) {
				c, err := svc.CreateAccount(ctx, args[0])
				return accountResult{c.AccountID, c.SecretID, c.SecretKey}, err
			}),
		fl.leaf("list", "List accounts", cobra.NoArgs,
			func(ctx context.Context, svc *service.Service, _ []string) (any, error) { return svc.ListAccounts(ctx) }),
		fl.leaf("delete ACCOUNT", "Delete an account that owns no group, instance or template, with its credentials", cobra.ExactArgs(1),
			func(ctx context.Context, svc *service.Service, args []string) (any, error) {
				return deletedResult{Deleted: args[0]}, svc.DeleteAccount(ctx, args[0])
			}))

	var credAccount, credRole string
	credCreate := fl.leaf("create", "Add a credential (admin or readonly) to an account", cobra.NoArgs,
		func(ctx context.Context, svc *service.Service, _ []string) (any, error) {
			c, err := svc.CreateCredential(ctx, credAccount, service.Role(credRole))
			return credentialResult{c.AccountID, c.SecretID, c.SecretKey, string(c.Role)}, err
		})
	credCreate.Flags().StringVar(&credAccount, "account", "", "account id (acc-…)")
	credCreate.Flags().StringVar(&credRole, "role", string(service.RoleReadOnly), "role: admin or readonly")
	_ = credCreate.MarkFlagRequired("account")
	var listAccount string
	credList := fl.leaf("list", "List credentials (without their SecretKeys)", cobra.NoArgs,
		func(ctx context.Context, svc *service.Service, _ []string) (any, error) {
			return svc.ListCredentials(ctx, listAccount)
		})
	credList.Flags().StringVar(&listAccount, "account", "", "only this account's (default: every credential)")
	setDisabled := func(disabled bool) func(context.Context, *service.Service, []string) (any, error) {
		return func(ctx context.Context, svc *service.Service, args []string) (any, error) {
			return credentialStateResult{SecretId: args[0], Disabled: disabled}, svc.SetCredentialDisabled(ctx, args[0], disabled)
		}
	}
	var retire bool
	credRotate := fl.leaf("rotate SECRETID", "Create a new credential of the same account and role; the old one works until disabled or deleted", cobra.ExactArgs(1),
		func(ctx context.Context, svc *service.Service, args []string) (any, error) {
			c, err := svc.RotateCredential(ctx, args[0], retire)
			return rotateResult{c.AccountID, c.SecretID, c.SecretKey, string(c.Role), args[0], retire}, err
		})
	credRotate.Flags().BoolVar(&retire, "retire", false, "disable the old credential at once (default: keep both working)")
	credential := parentCommand("credential", "Manage credentials", credCreate, credList,
		fl.leaf("disable SECRETID", "Disable a credential: it signs nothing until enabled again", cobra.ExactArgs(1), setDisabled(true)),
		fl.leaf("enable SECRETID", "Enable a disabled credential", cobra.ExactArgs(1), setDisabled(false)),
		fl.leaf("delete SECRETID", "Delete a credential", cobra.ExactArgs(1),
			func(ctx context.Context, svc *service.Service, args []string) (any, error) {
				return deletedResult{Deleted: args[0]}, svc.DeleteCredential(ctx, args[0])
			}),
		credRotate)

	platformKey := parentCommand("platform-key", "Manage platform credentials",
		fl.leaf("create", "Create a platform credential (registers and purges instances of any account)", cobra.NoArgs,
			func(ctx context.Context, svc *service.Service, _ []string) (any, error) {
				c, err := svc.CreatePlatformKey(ctx)
				return platformKeyResult{c.SecretID, c.SecretKey}, err
			}))

	host := parentCommand("host", "Manage hosts",
		fl.leaf("create NAME", "Create a host and its agent credential", cobra.ExactArgs(1),
			func(ctx context.Context, svc *service.Service, args []string) (any, error) {
				h, err := svc.CreateHost(ctx, args[0])
				return hostResult{h.HostID, h.SecretID, h.SecretKey}, err
			}),
		fl.leaf("list", "List hosts", cobra.NoArgs,
			func(ctx context.Context, svc *service.Service, _ []string) (any, error) { return svc.ListHosts(ctx) }),
		fl.leaf("delete HOST", "Delete a host and its agent credentials (refused while it carries instances)", cobra.ExactArgs(1),
			func(ctx context.Context, svc *service.Service, args []string) (any, error) {
				return deletedResult{Deleted: args[0]}, svc.DeleteHost(ctx, args[0])
			}))

	var quotaAccount string
	var q service.Quotas
	quotaSet := fl.leaf("set", "Override an account's quotas (flags not given keep their value)", cobra.NoArgs,
		func(ctx context.Context, svc *service.Service, _ []string) (any, error) {
			return svc.SetQuotas(ctx, quotaAccount, q)
		})
	qf := quotaSet.Flags()
	qf.StringVar(&quotaAccount, "account", "", "account id (acc-…)")
	for _, spec := range service.QuotaSpecs() {
		qf.IntVar(spec.Field(&q), kebab(spec.Name), 0, spec.Help)
	}
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

// parentCommand returns a command that only holds subcommands: run alone
// it prints its help; with an unknown subcommand it fails.
func parentCommand(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs, RunE: runHelp}
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

func runHelp(cmd *cobra.Command, _ []string) error { return cmd.Help() }

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
	out := platformAddressesResult{PlatformAddresses: []string{}}
	for _, p := range ps {
		out.PlatformAddresses = append(out.PlatformAddresses, p.String())
	}
	return out, err
}

// kebab spells a quota name as a flag: GroupsPerRegion → groups-per-region.
func kebab(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// The results of the admin commands, printed in their fields' order.
type (
	accountResult           struct{ AccountId, SecretId, SecretKey string }
	credentialResult        struct{ AccountId, SecretId, SecretKey, Role string }
	platformKeyResult       struct{ SecretId, SecretKey string }
	hostResult              struct{ HostId, SecretId, SecretKey string }
	platformAddressesResult struct{ PlatformAddresses []string }
	deletedResult           struct{ Deleted string }
	credentialStateResult   struct {
		SecretId string
		Disabled bool
	}
	rotateResult struct {
		AccountId, SecretId, SecretKey, Role, Replaces string
		ReplacedDisabled                               bool
	}
)

// The quota command prints service.Quotas, whose fields are the quotas in
// QuotaSpecs' order.

// withService opens the store, runs fn and prints its result.
func withService(cmd *cobra.Command, fl adminFlags, fn func(context.Context, *service.Service) (any, error)) error {
	if err := fl.g.checkOutput(); err != nil {
		return err
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
	return printResult(cmd.OutOrStdout(), fl.g.output, v)
}

// printResult prints v, a struct or a list of structs (or a pointer to
// one), as one line of JSON (format "json") or as text: a struct as
// "Field: value" lines in the order its type declares the fields, a list as
// a table with one column per field and a header line. The text comes from
// the typed value, never from JSON: a field's name is its JSON name, a
// nested struct is flattened into dotted names ("Placement.Zone"), a list
// of scalars is joined with ", ", a nil pointer is empty, and a value with a
// String or Text method is printed with it (netip.Prefix, wire.Int). Any
// other kind (maps, functions) is an error.
func printResult(w io.Writer, format string, v any) error {
	if format == "json" {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	rv := reflect.Indirect(reflect.ValueOf(v))
	switch {
	case rv.Kind() == reflect.Struct:
		for _, c := range columns(rv.Type(), "") {
			val, err := cell(rv.FieldByIndex(c.index))
			if err != nil {
				return fmt.Errorf("print %s: %w", c.name, err)
			}
			if _, err := fmt.Fprintf(w, "%s: %s\n", c.name, val); err != nil {
				return err
			}
		}
		return nil
	case rv.Kind() == reflect.Slice && indirectType(rv.Type().Elem()).Kind() == reflect.Struct:
		cols := columns(indirectType(rv.Type().Elem()), "")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.name
		}
		fmt.Fprintln(tw, strings.Join(names, "\t"))
		for i := range rv.Len() {
			row := reflect.Indirect(rv.Index(i))
			vals := make([]string, len(cols))
			for j, c := range cols {
				if !row.IsValid() {
					continue
				}
				val, err := cell(row.FieldByIndex(c.index))
				if err != nil {
					return fmt.Errorf("print row %d %s: %w", i, c.name, err)
				}
				vals[j] = val
			}
			fmt.Fprintln(tw, strings.Join(vals, "\t"))
		}
		return tw.Flush()
	}
	return fmt.Errorf("cannot print a %T as text; use -o json", v)
}

// column is one printed field: its dotted name and its index path.
type column struct {
	name  string
	index []int
}

// columns lists t's exported fields in declaration order, flattening
// nested structs that have no String or Text method.
func columns(t reflect.Type, prefix string) []column {
	var out []column
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
			continue
		} else if tag != "" {
			name = tag
		}
		ft := indirectType(f.Type)
		if ft.Kind() == reflect.Struct && !printable(ft) && f.Type.Kind() != reflect.Pointer {
			for _, c := range columns(ft, prefix+name+".") {
				out = append(out, column{name: c.name, index: append([]int{i}, c.index...)})
			}
			continue
		}
		out = append(out, column{name: prefix + name, index: []int{i}})
	}
	return out
}

func indirectType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// printable reports whether t has its own text form.
func printable(t reflect.Type) bool {
	if _, ok := t.MethodByName("String"); ok {
		return true
	}
	_, ok := t.MethodByName("Text")
	return ok
}

// cell renders one value.
func cell(v reflect.Value) (string, error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "", nil
		}
		v = v.Elem()
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case fmt.Stringer:
			return x.String(), nil
		case interface{ Text() string }:
			return x.Text(), nil
		}
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), nil
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return fmt.Sprint(v.Interface()), nil
	case reflect.Slice, reflect.Array:
		parts := make([]string, v.Len())
		for i := range v.Len() {
			p, err := cell(v.Index(i))
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return strings.Join(parts, ", "), nil
	case reflect.Struct:
		var parts []string
		for _, c := range columns(v.Type(), "") {
			p, err := cell(v.FieldByIndex(c.index))
			if err != nil {
				return "", err
			}
			parts = append(parts, c.name+"="+p)
		}
		return strings.Join(parts, " "), nil
	}
	return "", fmt.Errorf("a %s has no text form", v.Type())
}
