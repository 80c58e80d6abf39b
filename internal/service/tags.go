package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/store"
)

// The tag service's view of security groups: the tags of the caller's
// groups, read and written by group id. A group of another account or
// another region is absent, exactly as a missing one.

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
func (s *Service) DescribeGroupTags(ctx context.Context, c Caller, ids []string) ([]ResourceTags, error) {
	if err := s.tenant(c, false); err != nil {
		return nil, err
	}
	if err := kernel.CheckCount("ResourceIds", len(ids), maxTagResources); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if err := checkID(fmt.Sprintf("ResourceIds.%d", i), policy.PrefixSecurityGroup, id); err != nil {
			return nil, err
		}
	}
	var out []ResourceTags
	err := s.view(ctx, func(tx store.Tx) error {
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
			out = append(out, ResourceTags{ResourceID: g.ID, Tags: toGroup(g).Tags})
		}
		return nil
	})
	return out, err
}

// ModifyTagsInput is a change to one security group's tags: Replace sets
// each key's value (adding the keys the group does not have, after its
// other tags), Delete removes keys. At least one of the two is given, and
// no key is in both.
type ModifyTagsInput struct {
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
func (s *Service) ModifyGroupTags(ctx context.Context, c Caller, in ModifyTagsInput) error {
	if err := s.tenant(c, true); err != nil {
		return err
	}
	if err := checkModifyTags(in); err != nil {
		return err
	}
	replace, err := checkTagList(tagFields{"ReplaceTags", "TagKey", "TagValue"}, in.Replace)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		account := c.AccountID
		if in.AccountID != "" {
			account = in.AccountID
		}
		if err := checkID("Resource", policy.PrefixSecurityGroup, in.SecurityGroupID); err != nil {
			return err
		}
		if account != c.AccountID {
			e := notFound(ResourceSecurityGroup, in.SecurityGroupID)
			e.Field = "Resource"
			return e
		}
		g, err := s.loadGroupIn(ctx, tx, c.AccountID, c.Region, "Resource", in.SecurityGroupID)
		if err != nil {
			return err
		}
		before := slices.Clone(g.Tags)
		kept := slices.DeleteFunc(slices.Clone(g.Tags), func(t store.Tag) bool { return slices.Contains(in.Delete, t.Key) })
		tags := mergeTags(kept, replace)
		q, err := s.effectiveQuotas(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if len(tags) > len(before) {
			if err := checkTagCount(len(tags), q); err != nil {
				return err
			}
		}
		g.Tags = tags
		g.Updated = s.now()
		if err := tx.UpdateGroup(ctx, g, g.Policies.Version); err != nil {
			return err
		}
		return tx.AddHistory(ctx, store.History{GroupID: g.ID, AccountID: c.AccountID, Version: g.Policies.Version, Time: g.Updated,
			SecretID: c.SecretID, RequestID: c.RequestID, Action: "ModifyResourceTags",
			Detail: mustJSON(map[string]any{"Before": map[string]any{"Tags": tagsJSON(before)}, "After": map[string]any{"Tags": tagsJSON(tags)}})})
	})
}

// checkModifyTags checks the shape of a tag change before any tag is read.
func checkModifyTags(in ModifyTagsInput) error {
	switch {
	case !in.ReplaceGiven && !in.DeleteGiven:
		return fieldError("ReplaceTags", "", policy.Missing, "ReplaceTags or DeleteTags is required")
	case in.ReplaceGiven && len(in.Replace) == 0:
		return fieldError("ReplaceTags", "[]", policy.Malformed, "must not be empty: leave it out instead")
	case in.DeleteGiven && len(in.Delete) == 0:
		return fieldError("DeleteTags", "[]", policy.Malformed, "must not be empty: leave it out instead")
	}
	seen := map[string]bool{}
	for i, k := range in.Delete {
		field := fmt.Sprintf("DeleteTags.%d.TagKey", i)
		switch {
		case k == "":
			return fieldError(field, "", policy.Missing, "is required")
		case seen[k]:
			return fieldError(field, k, policy.Malformed, "is given twice")
		case slices.ContainsFunc(in.Replace, func(t Tag) bool { return t.Key == k }):
			return fieldError(field, k, policy.Coexist, "is also in ReplaceTags: a key is either replaced or deleted")
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
