package service

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/palisade-sg/palisade/internal/store"
)

// Role is what a credential may do.
type Role string

// The roles of a credential.
const (
	// RoleAdmin reads and writes everything in its own account.
	RoleAdmin Role = "admin"
	// RoleReadOnly reads everything in its own account and writes nothing.
	RoleReadOnly Role = "readonly"
	// RolePlatform belongs to the operator, not to an account: it registers
	// and purges instances of any account.
	RolePlatform Role = "platform"
	// RoleHost is an agent's credential: it reads its own host's desired
	// state only.
	RoleHost Role = "host"
)

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAdmin, RoleReadOnly, RolePlatform, RoleHost:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want admin, readonly, platform or host)", s)
}

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

// Credential is a SecretId/SecretKey pair and what it stands for.
type Credential struct {
	SecretID  string
	SecretKey string // raw: TC3 signatures are verified with it
	AccountID string // "" for platform and host credentials
	Role      Role
	HostID    string // for RoleHost
	Created   time.Time
}

// Caller returns the Caller of a request signed with c.
func (c Credential) Caller(region, requestID string) Caller {
	return Caller{AccountID: c.AccountID, SecretID: c.SecretID, Role: c.Role, HostID: c.HostID, Region: region, RequestID: requestID}
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

// Options configure a Service. Zero fields take defaults.
type Options struct {
	Logger *slog.Logger     // default: discard
	Clock  func() time.Time // default: time.Now
	// Rand is the source of identifiers and secrets (default crypto/rand).
	Rand io.Reader
	// Quotas are the defaults for every account without an override
	// (default DefaultQuotas; zero fields take the cloud's default).
	Quotas Quotas
	// Regions that exist (default DefaultRegions).
	Regions []Region
	// HistoryRetention is how many versions of a group's policy set its
	// history keeps at least (default DefaultHistoryRetention).
	HistoryRetention int
}

// Service is Palisade's control plane. It is safe for concurrent use.
type Service struct {
	st      store.Store
	log     *slog.Logger
	now     func() time.Time
	rand    io.Reader
	quotas  Quotas
	regions []Region
	cache   *simCache
	// retention is Options.HistoryRetention or its default.
	retention int
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	s := &Service{st: st, log: opts.Logger, now: opts.Clock, rand: opts.Rand, regions: opts.Regions}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if len(s.regions) == 0 {
		s.regions = DefaultRegions()
	}
	s.quotas = mergeQuotas(DefaultQuotas(), opts.Quotas)
	s.cache = newSimCache()
	s.retention = opts.HistoryRetention
	if s.retention <= 0 {
		s.retention = DefaultHistoryRetention
	}
	return s
}

// Regions returns the regions that exist.
func (s *Service) Regions() []Region {
	out := make([]Region, len(s.regions))
	for i, r := range s.regions {
		out[i] = Region{Name: r.Name, Zones: append([]string(nil), r.Zones...)}
	}
	return out
}

func mergeQuotas(base, over Quotas) Quotas {
	out := base
	for _, spec := range QuotaSpecs() {
		if v := *spec.Field(&over); v > 0 {
			*spec.Field(&out) = v
		}
	}
	return out
}
