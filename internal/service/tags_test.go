package service_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/internal/store"
)

func tagList(kv ...string) []service.Tag {
	var out []service.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, service.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func (f *fixture) tags(t *testing.T, c service.Caller, id string) []service.Tag {
	t.Helper()
	rts, err := f.svc.DescribeGroupTags(context.Background(), c, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(rts) != 1 {
		t.Fatalf("DescribeGroupTags(%s) = %+v, want one group", id, rts)
	}
	return rts[0].Tags
}

func TestGroupTags(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{Quotas: service.Quotas{TagsPerResource: 3}})
	g, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "web", Tags: tagList("env", "prod", "app", "web")})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _, err := f.svc.CreateSecurityGroup(ctx, f.other, service.CreateGroupInput{Name: "theirs", Tags: tagList("env", "dev")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        service.ModifyTagsInput
		want      []service.Tag // nil: refused, tags unchanged
		wantField string
		wantFKind policy.ErrorKind
		wantKind  service.Kind
	}{
		{"replace a value in place", service.ModifyTagsInput{Replace: tagList("env", "staging"), ReplaceGiven: true},
			tagList("env", "staging", "app", "web"), "", 0, 0},
		{"add a key after the others", service.ModifyTagsInput{Replace: tagList("team", "net"), ReplaceGiven: true},
			tagList("env", "prod", "app", "web", "team", "net"), "", 0, 0},
		{"delete a key", service.ModifyTagsInput{Delete: []string{"env"}, DeleteGiven: true},
			tagList("app", "web"), "", 0, 0},
		{"delete a key the group lacks", service.ModifyTagsInput{Delete: []string{"nope"}, DeleteGiven: true},
			tagList("env", "prod", "app", "web"), "", 0, 0},
		{"delete and add in one call", service.ModifyTagsInput{Replace: tagList("a", "1", "b", "2"), ReplaceGiven: true, Delete: []string{"env"}, DeleteGiven: true},
			tagList("app", "web", "a", "1", "b", "2"), "", 0, 0},
		{"over the quota", service.ModifyTagsInput{Replace: tagList("a", "1", "b", "2"), ReplaceGiven: true},
			nil, "", 0, service.KindLimitExceeded},
		{"neither list", service.ModifyTagsInput{}, nil, "ReplaceTags", policy.Missing, 0},
		{"an empty list", service.ModifyTagsInput{ReplaceGiven: true}, nil, "ReplaceTags", policy.Malformed, 0},
		{"a key in both lists", service.ModifyTagsInput{Replace: tagList("env", "x"), ReplaceGiven: true, Delete: []string{"env"}, DeleteGiven: true},
			nil, "DeleteTags.0.TagKey", policy.Coexist, 0},
		{"an empty key", service.ModifyTagsInput{Replace: tagList(" ", "x"), ReplaceGiven: true}, nil, "ReplaceTags.0.TagKey", policy.Missing, 0},
		{"a long key", service.ModifyTagsInput{Replace: tagList(strings.Repeat("k", 128), "x"), ReplaceGiven: true}, nil, "ReplaceTags.0.TagKey", policy.TooLong, 0},
		{"a long value", service.ModifyTagsInput{Replace: tagList("k", strings.Repeat("v", 256)), ReplaceGiven: true}, nil, "ReplaceTags.0.TagValue", policy.TooLong, 0},
		{"a key twice", service.ModifyTagsInput{Replace: tagList("k", "1", "k", "2"), ReplaceGiven: true}, nil, "ReplaceTags.1.TagKey", policy.Malformed, 0},
		{"another account's group", service.ModifyTagsInput{SecurityGroupID: theirs.ID, Replace: tagList("k", "v"), ReplaceGiven: true},
			nil, "", 0, service.KindNotFound},
		{"another account named in the resource", service.ModifyTagsInput{AccountID: "acc-someone", Replace: tagList("k", "v"), ReplaceGiven: true},
			nil, "", 0, service.KindNotFound},
	}
	initial := tagList("env", "prod", "app", "web")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.SecurityGroupID == "" {
				in.SecurityGroupID = g.ID
			}
			// Each case starts from the initial tags.
			if err := f.svc.ModifyGroupTags(ctx, f.admin, service.ModifyTagsInput{SecurityGroupID: g.ID, Delete: []string{"env", "app", "team", "a", "b"}, DeleteGiven: true}); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.ModifyGroupTags(ctx, f.admin, service.ModifyTagsInput{SecurityGroupID: g.ID, Replace: initial, ReplaceGiven: true}); err != nil {
				t.Fatal(err)
			}
			err := f.svc.ModifyGroupTags(ctx, f.admin, in)
			got := f.tags(t, f.admin, g.ID)
			if tt.want != nil {
				if err != nil {
					t.Fatalf("ModifyGroupTags: %v", err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("tags = %v, want %v", got, tt.want)
				}
				return
			}
			switch {
			case err == nil:
				t.Fatalf("no error, want one")
			case tt.wantField != "":
				if field, kind := fieldOf(err); field != tt.wantField || kind != tt.wantFKind {
					t.Errorf("error = %v (field %q kind %v), want %s %v", err, field, kind, tt.wantField, tt.wantFKind)
				}
			default:
				wantKind(t, err, tt.wantKind)
			}
			if !slices.Equal(got, initial) {
				t.Errorf("a refused change changed the tags to %v", got)
			}
		})
	}
	if got := f.tags(t, f.other, theirs.ID); !slices.Equal(got, tagList("env", "dev")) {
		t.Errorf("the other account's tags = %v", got)
	}

	// Reads leave out what is not the caller's group in the caller's region.
	sh, _, err := f.svc.CreateSecurityGroup(ctx, f.shanghai, service.CreateGroupInput{Name: "sh", Tags: tagList("r", "sh")})
	if err != nil {
		t.Fatal(err)
	}
	rts, err := f.svc.DescribeGroupTags(ctx, f.admin, []string{sh.ID, theirs.ID, "sg-00000000", g.ID, g.ID})
	if err != nil || len(rts) != 1 || rts[0].ResourceID != g.ID {
		t.Errorf("DescribeGroupTags(mixed) = %+v, %v; want only %s", rts, err, g.ID)
	}
	_, err = f.svc.DescribeGroupTags(ctx, f.admin, []string{"sg-bad"})
	if field, kind := fieldOf(err); field != "ResourceIds.0" || kind != policy.Malformed {
		t.Errorf("malformed id: %v", err)
	}
	wantKind(t, f.svc.ModifyGroupTags(ctx, f.readonly, service.ModifyTagsInput{SecurityGroupID: g.ID, Replace: tagList("k", "v"), ReplaceGiven: true}), service.KindForbidden)

	// Every tag write is in the group's history, with the tags before and
	// after.
	var hist []store.History
	if err := f.st.View(ctx, func(tx store.Tx) error {
		var err error
		hist, err = tx.ListHistory(ctx, g.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hist {
		if h.Action == "ModifyResourceTags" {
			n++
			if !strings.Contains(h.Detail, `"Before"`) || !strings.Contains(h.Detail, `"After"`) || h.SecretID != f.admin.SecretID {
				t.Errorf("history entry %+v", h)
			}
		}
	}
	if want := 2*len(tests) + 5; n != want { // two resets per case, then each successful change
		t.Errorf("%d ModifyResourceTags history entries, want %d", n, want)
	}
}

func TestCloneTags(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, service.Options{Quotas: service.Quotas{TagsPerResource: 3}})
	src, _, err := f.svc.CreateSecurityGroup(ctx, f.admin, service.CreateGroupInput{Name: "src", Tags: tagList("env", "prod", "app", "web")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		tags      []service.Tag
		cloneTags bool
		want      []service.Tag
		wantKind  service.Kind
	}{
		{"neither: no tags", nil, false, nil, 0},
		{"tags only", tagList("team", "net"), false, tagList("team", "net"), 0},
		{"the source's tags", nil, true, tagList("env", "prod", "app", "web"), 0},
		{"both: merged, the given value wins", tagList("env", "staging", "team", "net"), true, tagList("env", "staging", "app", "web", "team", "net"), 0},
		{"both over the quota", tagList("a", "1", "b", "2"), true, nil, service.KindLimitExceeded},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "clone" + string(rune('a'+i))
			g, err := f.svc.CloneSecurityGroup(ctx, f.admin, service.CloneInput{SecurityGroupID: src.ID, Name: &name, Tags: tt.tags, CloneTags: tt.cloneTags})
			if tt.wantKind != 0 {
				wantKind(t, err, tt.wantKind)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.tags(t, f.admin, g.ID); !slices.Equal(got, tt.want) {
				t.Errorf("clone tags = %v, want %v", got, tt.want)
			}
		})
	}
	_, err = f.svc.CloneSecurityGroup(ctx, f.admin, service.CloneInput{SecurityGroupID: src.ID, Tags: tagList("", "x")})
	if field, kind := fieldOf(err); field != "Tags.0.Key" || kind != policy.Missing {
		t.Errorf("clone with an empty tag key: %v", err)
	}
}
