package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

// Role is what a credential may do (store.Role).
type Role = store.Role

// The roles of a credential.
const (
	RoleAdmin    = store.RoleAdmin
	RoleReadOnly = store.RoleReadOnly
	RolePlatform = store.RolePlatform
	RoleHost     = store.RoleHost
)

// Caller is the authenticated principal of one request, as the API builds it
// from the request's credential and headers.
type Caller struct {
	AccountID string // "" for the platform role
	SecretID  string
	Role      Role
	HostID    string // for RoleHost
	Region    string // X-TC-Region
	RequestID string
}

// Region is a region and its zones.
type Region struct {
	Name  string   // "ap-guangzhou"
	Zones []string // "ap-guangzhou-3", …
}

// DefaultRegions returns the regions that exist unless configured otherwise.
func DefaultRegions() []Region {
	return []Region{
		{Name: "ap-guangzhou", Zones: []string{"ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6"}},
		{Name: "ap-shanghai", Zones: []string{"ap-shanghai-2", "ap-shanghai-4", "ap-shanghai-5"}},
	}
}

// Quotas are an account's limits; a zero field means "the default".
type Quotas struct {
	GroupsPerRegion          int // security groups per region and project
	PoliciesPerDirection     int // policies in one direction of one group
	GroupsPerInstance        int // groups bound to one instance
	InstancesPerGroup        int // instances bound to one group
	ReferencedGroupsPerGroup int // distinct groups one group's policies reference
	TagsPerResource          int // tags on one group
	TemplatesPerRegion       int // templates of one kind (address, service, and their groups) per region
	EntriesPerTemplate       int // addresses or services of one template, members of one template group
}

// QuotaSpec describes one quota: the one place that names it, gives its
// default and says where it lives in Quotas.
type QuotaSpec struct {
	Name    string // carried by LimitExceeded errors in Error.Quota; the stored override's key
	Help    string
	Default int
	Field   func(*Quotas) *int
}

// Quota names, carried by LimitExceeded errors in Error.Quota.
const (
	QuotaGroupsPerRegion          = "GroupsPerRegion"
	QuotaPoliciesPerDirection     = "PoliciesPerDirection"
	QuotaGroupsPerInstance        = "GroupsPerInstance"
	QuotaInstancesPerGroup        = "InstancesPerGroup"
	QuotaReferencedGroupsPerGroup = "ReferencedGroupsPerGroup"
	QuotaTagsPerResource          = "TagsPerResource"
	QuotaTemplatesPerRegion       = "TemplatesPerRegion"
	QuotaEntriesPerTemplate       = "EntriesPerTemplate"
)

// QuotaSpecs lists every quota with its default, the cloud's where it has
// one.
func QuotaSpecs() []QuotaSpec {
	return []QuotaSpec{
		{QuotaGroupsPerRegion, "security groups per region and project", 50, func(q *Quotas) *int { return &q.GroupsPerRegion }},
		{QuotaPoliciesPerDirection, "policies per direction of a group", 100, func(q *Quotas) *int { return &q.PoliciesPerDirection }},
		{QuotaGroupsPerInstance, "security groups bound to one instance", 5, func(q *Quotas) *int { return &q.GroupsPerInstance }},
		{QuotaInstancesPerGroup, "instances bound to one group", 2000, func(q *Quotas) *int { return &q.InstancesPerGroup }},
		{QuotaReferencedGroupsPerGroup, "groups one group's policies may reference", 10, func(q *Quotas) *int { return &q.ReferencedGroupsPerGroup }},
		{QuotaTagsPerResource, "tags on one security group", 50, func(q *Quotas) *int { return &q.TagsPerResource }},
		{QuotaTemplatesPerRegion, "templates of one kind per region", 1000, func(q *Quotas) *int { return &q.TemplatesPerRegion }},
		{QuotaEntriesPerTemplate, "addresses or services in one template, members in one template group", 100, func(q *Quotas) *int { return &q.EntriesPerTemplate }},
	}
}

// DefaultQuotas are the defaults of QuotaSpecs.
func DefaultQuotas() Quotas {
	var q Quotas
	for _, spec := range QuotaSpecs() {
		*spec.Field(&q) = spec.Default
	}
	return q
}

// MergeQuotas returns base with the positive fields of over.
func MergeQuotas(base, over Quotas) Quotas {
	out := base
	for _, spec := range QuotaSpecs() {
		if v := *spec.Field(&over); v > 0 {
			*spec.Field(&out) = v
		}
	}
	return out
}

// Base is what every part of the service shares, fixed at construction:
// the clock, the source of identifiers, the default quotas and the regions.
type Base struct {
	Now     func() time.Time
	Rand    io.Reader
	Quotas  Quotas // every account's defaults, DefaultQuotas merged
	Regions []Region
}

const alnumLower = "abcdefghijklmnopqrstuvwxyz0123456789"

// RandString returns n characters of alphabet drawn uniformly from Rand.
func (b *Base) RandString(alphabet string, n int) (string, error) {
	out := make([]byte, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(alphabet)
	for i := 0; i < n; {
		if _, err := io.ReadFull(b.Rand, buf); err != nil {
			return "", fmt.Errorf("random: %w", err)
		}
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out), nil
}

// NewID returns prefix and 8 random lowercase letters or digits.
func (b *Base) NewID(prefix string) (string, error) {
	r, err := b.RandString(alnumLower, policy.IDLength)
	if err != nil {
		return "", err
	}
	return prefix + r, nil
}

// CheckRegion checks that the request's region is configured.
func (b *Base) CheckRegion(region string) (Region, error) {
	if region == "" {
		return Region{}, FieldError("Region", "", policy.Missing, "is required (X-TC-Region)")
	}
	for _, r := range b.Regions {
		if r.Name == region {
			return r, nil
		}
	}
	return Region{}, &Error{Kind: KindUnsupportedRegion, Field: "Region", Message: fmt.Sprintf("region %s does not exist", region)}
}

// Tenant checks that c acts for an account in a configured region, with a
// role allowed to read (write false) or write (write true).
func (b *Base) Tenant(c Caller, write bool) error {
	switch c.Role {
	case RoleAdmin:
	case RoleReadOnly:
		if write {
			return Forbidden("credential %s is read-only", c.SecretID)
		}
	default:
		return Forbidden("role %q cannot act on account resources", c.Role)
	}
	if c.AccountID == "" {
		return Forbidden("credential %s has no account", c.SecretID)
	}
	_, err := b.CheckRegion(c.Region)
	return err
}

// EffectiveQuotas returns the account's quotas: overrides over the defaults.
func (b *Base) EffectiveQuotas(ctx context.Context, tx store.Tx, accountID string) (Quotas, error) {
	over, err := tx.QuotaOverrides(ctx, accountID)
	if err != nil {
		return Quotas{}, err
	}
	var q Quotas
	for _, spec := range QuotaSpecs() {
		*spec.Field(&q) = over[spec.Name]
	}
	return MergeQuotas(b.Quotas, q), nil
}

// LoadGroup finds a group of an account in a region. The store's query
// itself filters by account and region, so another account's group is not
// found exactly as a missing one is: neither the answer nor its timing
// tells them apart.
func LoadGroup(ctx context.Context, tx store.Tx, accountID, region, field, id string) (store.Group, error) {
	g, err := tx.GetAccountGroup(ctx, accountID, region, id)
	if errors.Is(err, store.ErrNotFound) {
		e := NotFound(ResourceSecurityGroup, id)
		e.Field = field
		return store.Group{}, e
	}
	return g, err
}

// MustJSON returns the JSON of v, or the quoted error if it has none.
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", err.Error())
	}
	return string(b)
}

// LoadOwnGroup finds a group of the caller's account in the caller's region.
func LoadOwnGroup(ctx context.Context, tx store.Tx, c Caller, field, id string) (store.Group, error) {
	if err := CheckID(field, policy.PrefixSecurityGroup, id); err != nil {
		return store.Group{}, err
	}
	return LoadGroup(ctx, tx, c.AccountID, c.Region, field, id)
}
