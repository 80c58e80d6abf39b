package service

import (
	"crypto/rand"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/palisade-sg/palisade/internal/resolve"
	"github.com/palisade-sg/palisade/internal/service/accounts"
	"github.com/palisade-sg/palisade/internal/service/instances"
	"github.com/palisade-sg/palisade/internal/service/kernel"
	"github.com/palisade-sg/palisade/internal/service/tagging"
	"github.com/palisade-sg/palisade/internal/service/templates"
	"github.com/palisade-sg/palisade/internal/store"
)

// Role is what a credential may do.
type Role = kernel.Role

// The roles of a credential (see kernel.Role).
const (
	RoleAdmin    = kernel.RoleAdmin
	RoleReadOnly = kernel.RoleReadOnly
	RolePlatform = kernel.RolePlatform
	RoleHost     = kernel.RoleHost
)

// Caller is the authenticated principal of one request.
type Caller = kernel.Caller

// The accounts half's types (see accounts.Accounts).
type (
	Credential         = accounts.Credential
	Account            = accounts.Account
	AccountCredentials = accounts.AccountCredentials
	HostCredentials    = accounts.HostCredentials
	AccountInfo        = accounts.AccountInfo
	CredentialInfo     = accounts.CredentialInfo
	HostInfo           = accounts.HostInfo
	PresetCredential   = accounts.PresetCredential
)

// Region is a region and its zones.
type Region = kernel.Region

// DefaultRegions returns the regions that exist unless configured otherwise.
func DefaultRegions() []Region { return kernel.DefaultRegions() }

// Quotas are an account's limits; a zero field means "the default".
type Quotas = kernel.Quotas

// QuotaSpec describes one quota.
type QuotaSpec = kernel.QuotaSpec

// Quota names, carried by LimitExceeded errors in Error.Quota.
const (
	QuotaGroupsPerRegion          = kernel.QuotaGroupsPerRegion
	QuotaPoliciesPerDirection     = kernel.QuotaPoliciesPerDirection
	QuotaGroupsPerInstance        = kernel.QuotaGroupsPerInstance
	QuotaInstancesPerGroup        = kernel.QuotaInstancesPerGroup
	QuotaReferencedGroupsPerGroup = kernel.QuotaReferencedGroupsPerGroup
	QuotaTagsPerResource          = kernel.QuotaTagsPerResource
	QuotaTemplatesPerRegion       = kernel.QuotaTemplatesPerRegion
	QuotaEntriesPerTemplate       = kernel.QuotaEntriesPerTemplate
)

// QuotaSpecs lists every quota with its default.
func QuotaSpecs() []QuotaSpec { return kernel.QuotaSpecs() }

// DefaultQuotas are the defaults of QuotaSpecs.
func DefaultQuotas() Quotas { return kernel.DefaultQuotas() }

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

// Service is Palisade's control plane. It is safe for concurrent use. The
// template, tag and instance actions are those of the embedded
// templates.Service, tagging.Tags and instances.Registry.
type Service struct {
	*templates.Service
	*tagging.Tags
	*instances.Registry
	*accounts.Accounts
	st    store.Store
	log   *slog.Logger
	now   func() time.Time // base.Now
	base  kernel.Base
	cache *simCache
	// hosts keeps each host's desired state for its agent, lists shares
	// the lists of a binding order between hosts, placed knows the host of
	// each instance, and feedRead makes one read of the feed serve every
	// host watch.
	hosts    *hostCache
	lists    *sharedLists
	placed   placements
	feedRead sync.Mutex
	// creds keeps the credentials requests were signed with.
	creds credentialCache
	// prefixes shares literal prefixes' address sets across resolutions.
	prefixes *resolve.Prefixes
	// retention is Options.HistoryRetention or its default.
	retention int
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	s := &Service{st: st, log: opts.Logger, now: opts.Clock}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.base = kernel.Base{Now: s.now, Rand: opts.Rand, Regions: opts.Regions, Quotas: kernel.MergeQuotas(DefaultQuotas(), opts.Quotas)}
	if s.base.Rand == nil {
		s.base.Rand = rand.Reader
	}
	if len(s.base.Regions) == 0 {
		s.base.Regions = DefaultRegions()
	}
	s.cache = newSimCache()
	s.hosts = newHostCache()
	s.lists = &sharedLists{entries: map[string]*listsEntry{}}
	s.prefixes = resolve.NewPrefixes(simPrefixes)
	s.retention = opts.HistoryRetention
	if s.retention <= 0 {
		s.retention = DefaultHistoryRetention
	}
	s.Service = templates.New(s.base, st, s.update)
	s.Tags = tagging.New(s.base, st, s.update)
	s.Registry = instances.New(s.base, st, s.guardedUpdate)
	s.Accounts = accounts.New(s.base, st, s.log, s.update)
	return s
}

// Regions returns the regions that exist.
func (s *Service) Regions() []Region {
	out := make([]Region, len(s.base.Regions))
	for i, r := range s.base.Regions {
		out[i] = Region{Name: r.Name, Zones: append([]string(nil), r.Zones...)}
	}
	return out
}
