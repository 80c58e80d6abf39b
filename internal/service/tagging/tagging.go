// Package tagging owns the tags of security groups: the rules of tag
// keys, values and counts that every write of tags checks, and the tag
// service's actions (read and change a group's tags). It is part of the
// service (package service embeds its Tags) and shares the service's
// kernel; it imports no part of the service above it.
package tagging

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// Tag is a key/value label on a security group.
type Tag struct {
	Key, Value string
}

// FromStore returns stored tags as Tags.
func FromStore(ts []store.Tag) []Tag {
	var out []Tag
	for _, t := range ts {
		out = append(out, Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// Check validates the Tags of a request (Tags.N.Key, Tags.N.Value).
func Check(tags []Tag) ([]store.Tag, error) {
	return checkList(fields{"Tags", "Key", "Value"}, tags)
}

// fields names a request's list of tags and the key and value fields of
// its elements, for error messages ("Tags.0.Key", "ReplaceTags.0.TagKey").
type fields struct{ list, key, value string }

func (f fields) keyAt(i int) string   { return fmt.Sprintf("%s.%d.%s", f.list, i, f.key) }
func (f fields) valueAt(i int) string { return fmt.Sprintf("%s.%d.%s", f.list, i, f.value) }

// checkList validates tags, named as f says: every key non-blank, at most
// 127 bytes and given once, every value at most 255 bytes.
func checkList(f fields, tags []Tag) ([]store.Tag, error) {
	var out []store.Tag
	seen := map[string]bool{}
	for i, t := range tags {
		field := f.keyAt(i)
		switch {
		case strings.TrimSpace(t.Key) == "":
			return nil, kernel.FieldError(field, "", policy.Missing, "is required")
		case len(t.Key) > 127:
			return nil, kernel.FieldError(field, t.Key, policy.TooLong, "the limit is 127 characters")
		case len(t.Value) > 255:
			return nil, kernel.FieldError(f.valueAt(i), t.Value, policy.TooLong, "the limit is 255 characters")
		case seen[t.Key]:
			return nil, kernel.FieldError(field, t.Key, policy.Malformed, "is given twice")
		}
		seen[t.Key] = true
		out = append(out, store.Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

// CheckCount refuses more tags on one group than the quota allows.
func CheckCount(n int, q kernel.Quotas) error {
	if n > q.TagsPerResource {
		return kernel.LimitExceeded(kernel.QuotaTagsPerResource, q.TagsPerResource, "%d tags; a security group may have at most %d", n, q.TagsPerResource)
	}
	return nil
}

// Merge returns tags with each of set applied: a key already there
// takes set's value in place, a new key is appended.
func Merge(tags, set []store.Tag) []store.Tag {
	out := slices.Clone(tags)
	for _, t := range set {
		if i := slices.IndexFunc(out, func(o store.Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
			continue
		}
		out = append(out, t)
	}
	return out
}

// Tags is the tag service's view of security groups: the tags of the
// caller's groups, read and written by group id. A group of another account
// or another region is absent, exactly as a missing one. It is safe for
// concurrent use.
type Tags struct {
	base kernel.Base
	st   store.Store
	// update runs a write transaction as the service does.
	update func(context.Context, func(store.Tx) error) error
}

// New returns a Tags over st; writes go through update.
func New(base kernel.Base, st store.Store, update func(context.Context, func(store.Tx) error) error) *Tags {
	return &Tags{base: base, st: st, update: update}
}

// maxTagResources bounds the resource ids of one tag read, as the cloud's
// tag service does.
const maxTagResources = 50

// ResourceTags is one security group's tags.
type ResourceTags struct {
	ResourceID string
	Tags       []Tag
}

// DescribeGroupTags returns, in the order of ids, the tags of each id that
// is one of the caller's security groups in the caller's region; other ids
// (missing, another account's, another region's) are left out.
func (s *Tags) DescribeGroupTags(ctx context.Context, c kernel.Caller, ids []string) ([]ResourceTags, error) {
	if err := s.base.Tenant(c, false); err != nil {
		return nil, err
	}
	if err := kernel.CheckCount("ResourceIds", len(ids), maxTagResources); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if err := kernel.CheckID(fmt.Sprintf("ResourceIds.%d", i), policy.PrefixSecurityGroup, id); err != nil {
			return nil, err
		}
	}
	var out []ResourceTags
	err := s.st.View(ctx, func(tx store.Tx) error {
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			g, err := tx.GetAccountGroup(ctx, c.AccountID, c.Region, id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, ResourceTags{ResourceID: g.ID, Tags: FromStore(g.Tags)})
		}
		return nil
	})
	return out, err
}

// ModifyInput is a change to one security group's tags: Replace sets
// each key's value (adding the keys the group does not have, after its
// other tags), Delete removes keys. At least one of the two is given, and
// no key is in both.
type ModifyInput struct {
	SecurityGroupID string
	// AccountID is the account the resource name names, "" for the
	// caller's; another account's group is not found, as a missing one.
	AccountID string
	Replace   []Tag
	Delete    []string
	// ReplaceGiven and DeleteGiven tell an absent list from an empty one,
	// which is refused.
	ReplaceGiven, DeleteGiven bool
}

// ModifyGroupTags changes the tags of one of the caller's security groups in
// the caller's region, within the TagsPerResource quota, and records the
// change in the group's history. Deleting a key the group does not have is
// not an error.
func (s *Tags) ModifyGroupTags(ctx context.Context, c kernel.Caller, in ModifyInput) error {
	if err := s.base.Tenant(c, true); err != nil {
		return err
	}
	if err := checkModify(in); err != nil {
		return err
	}
	replace, err := checkList(fields{"ReplaceTags", "TagKey", "TagValue"}, in.Replace)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		account := c.AccountID
		if in.AccountID != "" {
			account = in.AccountID
		}
		if err := kernel.CheckID("Resource", policy.PrefixSecurityGroup, in.SecurityGroupID); err != nil {
			return err
		}
		if account != c.AccountID {
			e := kernel.NotFound(kernel.ResourceSecurityGroup, in.SecurityGroupID)
			e.Field = "Resource"
			return e
		}
		g, err := kernel.LoadGroup(ctx, tx, c.AccountID, c.Region, "Resource", in.SecurityGroupID)
		if err != nil {
			return err
		}
		before := slices.Clone(g.Tags)
		kept := slices.DeleteFunc(slices.Clone(g.Tags), func(t store.Tag) bool { return slices.Contains(in.Delete, t.Key) })
		tags := Merge(kept, replace)
		q, err := s.base.EffectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if len(tags) > len(before) {
			if err := CheckCount(len(tags), q); err != nil {
				return err
			}
		}
		g.Tags = tags
		g.Updated = s.base.Now()
		if err := tx.UpdateGroup(ctx, g, g.Policies.Version); err != nil {
			return err
		}
		return tx.AddHistory(ctx, store.History{GroupID: g.ID, AccountID: c.AccountID, Version: g.Policies.Version, Time: g.Updated,
			SecretID: c.SecretID, RequestID: c.RequestID, Action: "ModifyResourceTags",
			Detail: kernel.MustJSON(map[string]any{"Before": map[string]any{"Tags": tagsJSON(before)}, "After": map[string]any{"Tags": tagsJSON(tags)}})})
	})
}

// checkModify checks the shape of a tag change before any tag is read.
func checkModify(in ModifyInput) error {
	switch {
	case !in.ReplaceGiven && !in.DeleteGiven:
		return kernel.FieldError("ReplaceTags", "", policy.Missing, "ReplaceTags or DeleteTags is required")
	case in.ReplaceGiven && len(in.Replace) == 0:
		return kernel.FieldError("ReplaceTags", "[]", policy.Malformed, "must not be empty: leave it out instead")
	case in.DeleteGiven && len(in.Delete) == 0:
		return kernel.FieldError("DeleteTags", "[]", policy.Malformed, "must not be empty: leave it out instead")
	}
	seen := map[string]bool{}
	for i, k := range in.Delete {
		field := fmt.Sprintf("DeleteTags.%d.TagKey", i)
		switch {
		case k == "":
			return kernel.FieldError(field, "", policy.Missing, "is required")
		case seen[k]:
			return kernel.FieldError(field, k, policy.Malformed, "is given twice")
		case slices.ContainsFunc(in.Replace, func(t Tag) bool { return t.Key == k }):
			return kernel.FieldError(field, k, policy.Coexist, "is also in ReplaceTags: a key is either replaced or deleted")
		}
		seen[k] = true
	}
	return nil
}

// tagsJSON is tags as history records them: a list of {Key, Value}.
func tagsJSON(tags []store.Tag) []map[string]string {
	out := make([]map[string]string, len(tags))
	for i, t := range tags {
		out[i] = map[string]string{"Key": t.Key, "Value": t.Value}
	}
	return out
}
