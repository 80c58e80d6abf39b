package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
	"github.com/palisade-sg/palisade/internal/store/sqlite"
	"github.com/palisade-sg/palisade/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "palisade.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func mustPolicy(t *testing.T, s string) policy.Policy {
	t.Helper()
	p, err := policy.ParsePolicy(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// migrationState reads schema_migrations and the schema itself straight
// from the file.
func migrationState(t *testing.T, path string) (versions []string, schema []string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []struct {
		query string
		out   *[]string
	}{
		{`SELECT version || ' ' || name FROM schema_migrations ORDER BY version`, &versions},
		{`SELECT type || ' ' || name || ' ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`, &schema},
	} {
		rows, err := db.Query(q.query)
		if err != nil {
			t.Fatalf("%s: %v", q.query, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			*q.out = append(*q.out, s)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return versions, schema
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "palisade.db")
	t0 := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

	account := store.Account{ID: "acc-00000001", Name: "alice", Created: t0}
	tmpl := store.Template{ID: "ipm-00000001", AccountID: account.ID, Region: "ap-guangzhou", Kind: store.KindAddress, Name: "office",
		Entries: []store.TemplateEntry{{Value: "192.0.2.0/24", Description: "hq"}}, Created: t0, Updated: t0}
	web := store.Group{ID: "sg-0000000a", AccountID: account.ID, Region: "ap-guangzhou", Name: "web", Description: "front",
		Tags: []store.Tag{{Key: "env", Value: "prod"}}, Created: t0, Updated: t0}
	web.Policies.Version = 3
	web.Policies.Ingress = []policy.Policy{
		mustPolicy(t, "ACCEPT TCP 80,443 0.0.0.0/0"),
		mustPolicy(t, "ACCEPT TCP 22 ipm-00000001"),
		mustPolicy(t, "DROP ALL ALL 0.0.0.0/0"),
	}
	web.Policies.Egress = []policy.Policy{mustPolicy(t, "ACCEPT ALL ALL ::/0")}
	db := store.Group{ID: "sg-0000000b", AccountID: account.ID, Region: "ap-guangzhou", Name: "db", Description: "", Created: t0, Updated: t0}
	db.Policies.Ingress = []policy.Policy{mustPolicy(t, "ACCEPT TCP 5432 sg-0000000a")}
	ins := store.Instance{ID: "ins-00000001", AccountID: account.ID, Region: "ap-guangzhou", Zone: "ap-guangzhou-3", Name: "app",
		OSType: "linux", State: "RUNNING", PrivateIPs: []string{"10.0.0.5"}, IPv6s: []string{"fd00::5"},
		GroupIDs: []string{"sg-0000000b", "sg-0000000a"}, Created: t0, Updated: t0}

	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	if err := s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, account); err != nil {
			return err
		}
		if err := tx.CreateTemplate(ctx, tmpl); err != nil {
			return err
		}
		for _, g := range []store.Group{web, db} {
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
		}
		return tx.CreateInstance(ctx, ins)
	}); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	versions, schema := migrationState(t, path)
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(files) || len(files) == 0 {
		t.Fatalf("schema_migrations = %q after the first open, want one row for each of %q", versions, files)
	}

	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	err = s.View(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, account.ID)
		if err != nil {
			return err
		}
		if a.Name != "alice" || !a.Created.Equal(t0) {
			t.Errorf("GetAccount = %+v", a)
		}
		if n, err := tx.CountAccounts(ctx); err != nil || n != 1 {
			t.Errorf("CountAccounts = %d, %v; want 1", n, err)
		}
		for _, want := range []store.Group{web, db} {
			g, err := tx.GetGroup(ctx, want.ID)
			if err != nil {
				return err
			}
			if g.Name != want.Name || g.Description != want.Description || g.Region != want.Region || !slices.Equal(g.Tags, want.Tags) {
				t.Errorf("GetGroup(%s) = %+v", want.ID, g)
			}
			if g.Policies.Version != want.Policies.Version || !reflect.DeepEqual(texts(g.Policies), texts(want.Policies)) {
				t.Errorf("GetGroup(%s) policies = v%d %q, want v%d %q", want.ID, g.Policies.Version, texts(g.Policies), want.Policies.Version, texts(want.Policies))
			}
		}
		in, err := tx.GetInstance(ctx, ins.ID)
		if err != nil {
			return err
		}
		if !slices.Equal(in.GroupIDs, ins.GroupIDs) || !slices.Equal(in.PrivateIPs, ins.PrivateIPs) || !slices.Equal(in.IPv6s, ins.IPv6s) ||
			in.State != ins.State || in.Zone != ins.Zone || in.Name != ins.Name {
			t.Errorf("GetInstance = %+v, want %+v", in, ins)
		}
		_, sets, err := tx.GetInstancePolicies(ctx, ins.ID)
		if err != nil {
			return err
		}
		if len(sets) != 2 || sets[0].ID != db.ID || sets[1].ID != web.ID {
			t.Errorf("GetInstancePolicies groups = %+v, want db then web", sets)
		}
		tm, err := tx.GetTemplate(ctx, tmpl.ID)
		if err != nil {
			return err
		}
		if !slices.Equal(tm.Entries, tmpl.Entries) || tm.Kind != store.KindAddress {
			t.Errorf("GetTemplate = %+v", tm)
		}
		refs, err := tx.Referrers(ctx, []string{web.ID, tmpl.ID})
		if err != nil {
			return err
		}
		want := []store.Ref{{From: web.ID, To: tmpl.ID}, {From: db.ID, To: web.ID}}
		slices.SortFunc(refs, func(a, b store.Ref) int { return strings.Compare(a.From+a.To, b.From+b.To) })
		if !slices.Equal(refs, want) {
			t.Errorf("Referrers = %+v, want %+v", refs, want)
		}
		if n, err := tx.CountBindings(ctx, []string{web.ID, db.ID}); err != nil || n[web.ID] != 1 || n[db.ID] != 1 {
			t.Errorf("CountBindings = %v, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read after reopen: %v", err)
	}
	// The reopened store still enforces its keys.
	if err := s.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, account); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateAccount(existing) after reopen = %v, want ErrConflict", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	versions2, schema2 := migrationState(t, path)
	if !slices.Equal(versions2, versions) {
		t.Errorf("schema_migrations after reopen = %q, want %q (no migration applied again)", versions2, versions)
	}
	if !slices.Equal(schema2, schema) {
		t.Errorf("schema changed by reopening:\n%q\nwant\n%q", schema2, schema)
	}
}

func texts(set policy.PolicySet) [2][]string {
	var out [2][]string
	for i, ps := range [][]policy.Policy{set.Ingress, set.Egress} {
		for _, p := range ps {
			out[i] = append(out[i], p.String())
		}
	}
	return out
}
