// Package store is Palisade's persistence interface: a Store runs
// transactions over accounts, credentials, hosts, instances, security groups,
// templates and history. Backends live in subpackages (sqlite, later
// postgres), are opened by Open from a DSN, and all pass the storetest suite.
//
// The store keeps data, not rules: it checks keys and versions, and keeps the
// reference index (which group or template group refers to which id) in step
// with what it stores. Every invariant of the product lives in the service.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotFound: no row with that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key (id, name, secret id) is already taken.
	ErrConflict = errors.New("conflict")
	// ErrVersionMismatch: a conditional update found another version.
	ErrVersionMismatch = errors.New("version mismatch")
)

// Store is a transactional store.
type Store interface {
	// Tx runs fn in one read-write transaction, committed when fn returns
	// nil and rolled back otherwise. Writers are serialised; a writer waits
	// for another rather than failing.
	Tx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction; it may run concurrently with
	// writers and other readers. Writes in View fail.
	View(ctx context.Context, fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx is the work a transaction can do. Lists are returned in a stable order
// (creation order unless stated).
type Tx interface {
	// Accounts.
	CreateAccount(ctx context.Context, a Account) error
	GetAccount(ctx context.Context, id string) (Account, error)
	// FindAccountByName returns the oldest account of that name.
	FindAccountByName(ctx context.Context, name string) (Account, error)
	UpdateAccount(ctx context.Context, a Account) error
	CountAccounts(ctx context.Context) (int, error)
	// BumpRevision increments an account's revision, which changes whenever
	// anything the account's traffic decisions depend on changes.
	BumpRevision(ctx context.Context, accountID string) error
	AddAccountEvent(ctx context.Context, e AccountEvent) error
	ListAccountEvents(ctx context.Context, accountID string) ([]AccountEvent, error)
	QuotaOverrides(ctx context.Context, accountID string) (map[string]int, error)
	SetQuotaOverride(ctx context.Context, accountID, name string, value int) error

	// Credentials and hosts. The store keeps SecretKeys encrypted:
	// CreateCredential seals c.SecretKey, GetCredential returns it opened,
	// or an error if it cannot be (another master key).
	CreateCredential(ctx context.Context, c Credential) error
	GetCredential(ctx context.Context, secretID string) (Credential, error)
	CreateHost(ctx context.Context, h Host) error
	GetHost(ctx context.Context, id string) (Host, error)

	// Platform service addresses (prefix strings). Changing them bumps every
	// account's revision.
	AddPlatformAddress(ctx context.Context, prefix string) error
	DeletePlatformAddress(ctx context.Context, prefix string) error
	ListPlatformAddresses(ctx context.Context) ([]string, error)

	// Security groups. CreateGroup and UpdateGroup keep the reference index
	// in step with the policies' peers and service templates.
	CreateGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, id string) (Group, error)
	// GetGroupByName finds a group by account, region and name.
	GetGroupByName(ctx context.Context, accountID, region, name string) (Group, error)
	// GetDefaultGroup finds the default group of an account, region and
	// project.
	GetDefaultGroup(ctx context.Context, accountID, region string, projectID int64) (Group, error)
	// UpdateGroup stores g if the stored group's policy Version is
	// prevVersion, else ErrVersionMismatch.
	UpdateGroup(ctx context.Context, g Group, prevVersion uint64) error
	DeleteGroup(ctx context.Context, id string) error
	ListGroups(ctx context.Context, f GroupFilter) ([]Group, int, error)
	CountGroups(ctx context.Context, accountID, region string, projectID int64) (int, error)
	// Referrers returns every reference to any of ids, from security groups'
	// policies and from template groups' members.
	Referrers(ctx context.Context, ids []string) ([]Ref, error)
	AddHistory(ctx context.Context, h History) error
	ListHistory(ctx context.Context, groupID string) ([]History, error)
	// PruneHistory deletes the group's history rows older than its newest
	// snapshot (a row with a Snapshot) of a Version at most keepFrom, so
	// that every version from keepFrom on can still be rebuilt, and
	// returns how many rows it deleted.
	PruneHistory(ctx context.Context, groupID string, keepFrom uint64) (int, error)

	// Instances and their ordered bindings.
	CreateInstance(ctx context.Context, in Instance) error
	GetInstance(ctx context.Context, id string) (Instance, error)
	// UpdateInstance stores the instance's fields, bindings included.
	UpdateInstance(ctx context.Context, in Instance) error
	ListInstances(ctx context.Context, f InstanceFilter) ([]Instance, int, error)
	// CountBindings returns, for each of groupIDs, how many instances are
	// bound to it.
	CountBindings(ctx context.Context, groupIDs []string) (map[string]int, error)

	// Templates (address, service and their groups).
	CreateTemplate(ctx context.Context, t Template) error
	GetTemplate(ctx context.Context, id string) (Template, error)
	UpdateTemplate(ctx context.Context, t Template) error
	DeleteTemplate(ctx context.Context, id string) error
	ListTemplates(ctx context.Context, f TemplateFilter) ([]Template, int, error)

	// What an instance's effective rule lists are resolved from, each in
	// one statement. The policy sets returned may be shared with other
	// calls: read them, never modify them.

	// GetInstancePolicies returns an instance with its ordered bindings and,
	// in the same order, the policy sets of the groups it is bound to.
	GetInstancePolicies(ctx context.Context, id string) (Instance, []GroupPolicies, error)
	// ListMembers returns every binding to one of groupIDs, with the bound
	// instance's state and addresses, in the instances' creation order and,
	// for one instance, in binding order.
	ListMembers(ctx context.Context, groupIDs []string) ([]Member, error)
	// ResolveTemplates returns the templates of ids that exist and the
	// existing members of the template groups among them, each once, in
	// creation order.
	ResolveTemplates(ctx context.Context, ids []string) ([]Template, error)
}

// Account is a tenant.
type Account struct {
	ID              string
	Name            string
	Port25Unblocked bool
	Port25By        string // SecretId that lifted the block
	Port25At        time.Time
	Revision        int64 // maintained by the store; ignored on write
	Created         time.Time
}

// AccountEvent is one entry of an account's history.
type AccountEvent struct {
	AccountID string
	Time      time.Time
	Kind      string // "UnblockPort25", …
	SecretID  string
	RequestID string
	Detail    string
}

// Credential is a SecretId/SecretKey pair.
type Credential struct {
	SecretID  string
	SecretKey string
	AccountID string // "" for platform and host credentials
	Role      string
	HostID    string
	Created   time.Time
	Disabled  bool // a disabled credential signs nothing
}

// Host is a machine running an agent.
type Host struct {
	ID      string
	Name    string
	Created time.Time
}

// Tag is a key/value label.
type Tag struct {
	Key, Value string
}

// Group is a security group with its policy set.
type Group struct {
	ID          string
	AccountID   string
	Region      string
	ProjectID   int64
	Name        string
	Description string
	IsDefault   bool
	Tags        []Tag
	Policies    policy.PolicySet
	Created     time.Time
	Updated     time.Time
}

// GroupPolicies is the policy set of a group.
type GroupPolicies struct {
	ID       string
	Policies policy.PolicySet
}

// Member is an instance bound to a group: the binding and what of the
// instance makes the group's addresses.
type Member struct {
	GroupID    string
	InstanceID string
	State      string
	PrivateIPs []string
	IPv6s      []string
}

// TagCond is one tag condition: the group has tag Key, with one of Values
// (any value when Values is empty).
type TagCond struct {
	Key    string
	Values []string
}

// GroupFilter selects groups. Empty fields do not filter; conditions are
// ANDed, the values of one field ORed.
type GroupFilter struct {
	AccountID  string
	Region     string
	IDs        []string
	Names      []string
	ProjectIDs []int64
	TagKeys    [][]string // for each list, has one of its keys
	Tags       []TagCond  // has each
	OrderBy    string     // "" (creation), "CreatedTime" or "UpdateTime"
	Desc       bool
	Offset     int
	Limit      int // 0: no limit
}

// Ref is a reference from a security group's policy, or from a template
// group, to another resource.
type Ref struct {
	From string // sg-, ipmg-, ppmg-
	To   string // sg-, ipm-, ipmg-, ppm-, ppmg-
}

// History is one change to a security group.
type History struct {
	GroupID   string
	AccountID string
	Seq       int64 // assigned by the store; increasing
	Version   uint64
	Time      time.Time
	SecretID  string
	RequestID string
	Action    string
	Detail    string // JSON: what changed
	// Snapshot is the whole policy set after the change (JSON), on the
	// rows from which later versions are rebuilt; "" on the others.
	Snapshot string
}

// Instance is a compute instance; GroupIDs are its ordered bindings.
type Instance struct {
	ID         string
	AccountID  string
	Region     string
	Zone       string
	ProjectID  int64
	Name       string
	OSType     string
	PrivateIPs []string
	IPv6s      []string
	PublicIP   string
	HostID     string
	Interface  string
	State      string
	GroupIDs   []string
	Created    time.Time
	Updated    time.Time
}

// InstanceFilter selects instances, like GroupFilter.
type InstanceFilter struct {
	AccountID  string
	Region     string
	IDs        []string
	Names      []string
	Zones      []string
	States     []string
	ProjectIDs []int64
	GroupIDs   []string // bound to any of these groups
	// GroupSets narrows further: for each list, bound to one of its groups.
	GroupSets [][]string
	Offset    int
	Limit     int
}

// Template kinds.
const (
	KindAddress      = "address"
	KindAddressGroup = "address-group"
	KindService      = "service"
	KindServiceGroup = "service-group"
)

// TemplateEntry is a template's entry; in a template group Value is a
// member's id.
type TemplateEntry struct {
	Value       string
	Description string
}

// Template is an address or service template, or a group of them.
type Template struct {
	ID        string
	AccountID string
	Region    string
	Kind      string
	Name      string
	Entries   []TemplateEntry
	Created   time.Time
	Updated   time.Time
}

// TemplateFilter selects templates of one kind.
type TemplateFilter struct {
	AccountID string
	Region    string
	Kind      string
	IDs       []string
	Names     []string
	Offset    int
	Limit     int
}
