package cli_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// benchPolicies is the size of the imported file and of the group list.
const benchPolicies = 10000

// BenchmarkCLIImportXLSX10k imports 10,000 ingress policies from an XLSX
// file into an empty group (the quota and the body cap raised), end to end: the built
// binary reads and validates the file and writes it in one request.
func BenchmarkCLIImportXLSX10k(b *testing.B) {
	srv := palisadetest.NewServerWith(b, palisadetest.Options{MaxBodyBytes: 8 << 20})
	srv.SetQuotas(b, palisadetest.Quotas{PoliciesPerDirection: 2 * benchPolicies, GroupsPerRegion: 1000})
	c := newCLI(b, srv)
	rows := [][]string{{"PolicyIndex", "Action", "Protocol", "Port", "CidrBlock", "PolicyDescription"}}
	for i := range benchPolicies {
		rows = append(rows, []string{fmt.Sprint(i), "ACCEPT", "TCP", fmt.Sprint(1 + i%60000), fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), fmt.Sprintf("rule %d", i)})
	}
	file := filepath.Join(b.TempDir(), "policies.xlsx")
	writeXLSX(b, file, map[string][][]string{"Ingress": rows})
	n := 0
	for b.Loop() {
		b.StopTimer()
		n++
		id := createGroup(c, fmt.Sprintf("import-%d", n))
		b.StartTimer()
		c.ok("sg", "import", id, "--file", file)
		b.StopTimer()
		if got := len(c.policies(id).Ingress); got != benchPolicies {
			b.Fatalf("imported %d policies, want %d", got, benchPolicies)
		}
		b.StartTimer()
	}
}

// BenchmarkCLISGList10k lists 10,000 groups with the built binary (100
// requests of the API's largest page).
func BenchmarkCLISGList10k(b *testing.B) {
	srv := palisadetest.NewServer(b)
	srv.SetQuotas(b, palisadetest.Quotas{GroupsPerRegion: benchPolicies})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchPolicies; i += 8 {
				if _, err := srv.Client.CreateSecurityGroup(ctx, &wire.CreateSecurityGroupRequest{GroupName: wire.NewString(fmt.Sprintf("g-%05d", i)), GroupDescription: wire.NewString("")}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	c := newCLI(b, srv)
	for b.Loop() {
		out := c.ok("sg", "list")
		b.StopTimer()
		if lines := len(splitLines(out)); lines != benchPolicies+1 {
			b.Fatalf("sg list printed %d lines, want %d", lines, benchPolicies+1)
		}
		b.StartTimer()
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
