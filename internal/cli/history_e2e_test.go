package cli_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/palisadetest"
	"github.com/palisade-sg/palisade/wire"
)

// TestCLIHistory writes versions of a group with the binary, lists and
// shows its history (plain when piped, coloured when asked, JSON with -o
// json), and restores an earlier version: the exact earlier policy set
// comes back as a new version recorded as a restore.
func TestCLIHistory(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	sg := createGroup(c, "hist")
	var w wire.PolicyWriteResponse
	c.json(&w, "rule", "add", sg, "ACCEPT", "tcp", "22", "10.0.0.0/8", "ssh")
	c.json(&w, "rule", "add", sg, "--direction", "egress", "--rule", "DROP TCP 25 0.0.0.0/0")
	v2 := c.policies(sg)
	c.json(&w, "rule", "modify", sg, "--index", "0", "DROP TCP 22 0.0.0.0/0 # closed")
	c.json(&w, "rule", "delete", sg, "--direction", "egress", "--index", "0")
	if w.Version != "4" {
		t.Fatalf("version after the writes = %s, want 4", w.Version)
	}

	var list wire.DescribeSecurityGroupHistoryResponse
	c.json(&list, "history", "list", sg)
	var versions []string
	for _, e := range list.HistorySet {
		versions = append(versions, e.Version)
	}
	if want := []string{"4", "3", "2", "1", "0"}; !reflect.DeepEqual(versions, want) {
		t.Fatalf("history list versions = %v, want %v", versions, want)
	}
	if text := c.ok("history", "list", sg, "--limit", "2"); !strings.Contains(text, "VERSION") || !strings.Contains(text, "ReplaceSecurityGroupPolicy") ||
		!strings.Contains(text, "(2 of 5 changes; --offset 2 for more)") {
		t.Errorf("history list text:\n%s", text)
	}

	const replaced = "  - Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh\n  + Ingress 0: DROP TCP 22 0.0.0.0/0 # closed\n"
	plain := c.ok("history", "show", sg, "3")
	if !strings.HasPrefix(plain, "version 3  ") || !strings.HasSuffix(plain, replaced) || strings.Contains(plain, "\x1b[") {
		t.Errorf("history show (piped) =\n%q\nwant a plain diff ending %q", plain, replaced)
	}
	coloured := c.ok("history", "show", sg, "3", "--color", "always")
	if !strings.Contains(coloured, "\x1b[31m  - Ingress 0: ACCEPT TCP 22 10.0.0.0/8 # ssh\x1b[0m\n\x1b[32m  + Ingress 0: DROP TCP 22 0.0.0.0/0 # closed\x1b[0m\n") {
		t.Errorf("history show --color always =\n%q", coloured)
	}
	var shown wire.DescribeSecurityGroupHistoryResponse
	c.json(&shown, "history", "show", sg, "3")
	if len(shown.HistorySet) != 1 || shown.HistorySet[0].Diff != strings.TrimSpace(strings.ReplaceAll(replaced, "  ", "")) {
		t.Errorf("history show -o json = %+v", shown)
	}
	if e := c.fail("history", "show", sg, "42"); e.Code != "ClientError" || !strings.Contains(e.Message, "version 42") {
		t.Errorf("history show of a version never written: %+v", e)
	}

	if e := c.fail("history", "restore", sg, "2", "--version", "3"); e.Code != "UnsupportedOperation.VersionMismatch" {
		t.Errorf("restore naming a stale version: %+v", e)
	}
	if e := c.fail("history", "restore", sg, "42"); e.Code != "ResourceNotFound" {
		t.Errorf("restore of a version never written: %+v", e)
	}
	if out := c.ok("history", "restore", sg, "2", "--version", "4"); out != "Restored version 2 of "+sg+" as version 5.\n" {
		t.Errorf("history restore = %q", out)
	}
	got := c.policies(sg)
	v2.Version = "5"
	if !reflect.DeepEqual(got, v2) {
		t.Errorf("after restoring version 2:\n got %+v\nwant %+v", got, v2)
	}
	c.json(&list, "history", "list", sg, "--limit", "1")
	if e := list.HistorySet[0]; e.Action != "RestoreSecurityGroupVersion" || e.RestoredFrom != "2" || e.Version != "5" {
		t.Errorf("newest change = %+v, want the restore of version 2", e)
	}
}

// TestCLIHistoryShowPages: history show gathers every change of a version,
// past the API's page of 100.
func TestCLIHistoryShowPages(t *testing.T) {
	srv := palisadetest.NewServer(t)
	c := newCLI(t, srv)
	sg := createGroup(c, "renamed")
	for i := range 120 {
		if _, err := srv.Client.ModifySecurityGroupAttribute(t.Context(), &wire.ModifySecurityGroupAttributeRequest{
			SecurityGroupId: wire.NewString(sg), GroupName: wire.NewString(fmt.Sprintf("renamed-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var shown wire.DescribeSecurityGroupHistoryResponse
	c.json(&shown, "history", "show", sg, "0")
	if len(shown.HistorySet) != 121 || shown.HistorySet[0].Changes[0].Text != `Name: "renamed-118" -> "renamed-119"` {
		t.Errorf("history show of version 0: %d changes (newest %+v), want 121", len(shown.HistorySet), shown.HistorySet[0])
	}
}
