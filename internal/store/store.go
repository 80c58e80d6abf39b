// Package store is Palisade's persistence interface: a Store runs
// transactions over accounts, credentials, hosts, instances, security groups,
// templates and history. Backends live in subpackages (sqlite, postgres),
// are opened by backend.Open from a DSN, and all pass the storetest suite.
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
	// ErrCompacted: the changes asked for are older than the feed keeps;
	// the follower must read everything again.
	ErrCompacted = errors.New("changes compacted")
	// ErrBusy: a transaction met lock conflicts or serialisation failures
	// on every attempt; the request may be retried later.
	ErrBusy = errors.New("store busy")
)

// urgentKey marks a context as Urgent.
type urgentKey struct{}

// Urgent returns ctx marked so that a Report run with it is committed
// before the reports waiting with it: a write request's replay record,
// which the request's client waits for, does not queue behind a thousand
// agents' reports.
func Urgent(ctx context.Context) context.Context { return context.WithValue(ctx, urgentKey{}, true) }

// IsUrgent reports whether ctx is marked Urgent.
func IsUrgent(ctx context.Context) bool { u, _ := ctx.Value(urgentKey{}).(bool); return u }

// Store is a transactional store.
type Store interface {
	// Tx runs fn in one read-write transaction, committed when fn returns
	// nil and rolled back otherwise. Writers are serialised; a writer waits
	// for another rather than failing. A transaction that writes anything
	// commits one feed entry (a Change) with the next revision.
	//
	// On a transient lock conflict or serialisation failure the whole
	// transaction, fn included, runs again, a bounded number of times, and
	// then fails with ErrBusy: fn must leave nothing behind outside the
	// transaction that a second run would not overwrite.
	Tx(ctx context.Context, fn func(Tx) error) error
	// Report runs fn in a read-write transaction that writes only what is
	// not the desired state and commits no feed entry: hosts' reports
	// (SetHostStatus, AddHostCounters) and signatures (RememberSignature,
	// PruneSignatures). It does not wait for the writers Tx serialises,
	// nor they for it; any other write in it fails. It runs again on a
	// transient conflict, as Tx does. The store may commit it with other
	// Reports of the moment, in one transaction: fn must not depend on
	// what another fn wrote. A ctx marked Urgent goes before the reports
	// waiting to be committed.
	Report(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction; it may run concurrently with
	// writers and other readers. Writes in View fail.
	View(ctx context.Context, fn func(Tx) error) error
	// Wait returns the current revision as soon as it is past after, or
	// with ctx's error when ctx ends first. It is woken by every commit of
	// this Store and sees commits by other processes on the same database
	// too: told of them (PostgreSQL's notifications) or by polling.
	Wait(ctx context.Context, after int64) (int64, error)
	// Head returns the current revision, read after the call began: every
	// commit that ended before it is counted. Concurrent calls may share
	// one read.
	Head(ctx context.Context) (int64, error)
	// Close releases the store.
	Close() error
}

// Tx is the work a transaction can do. Lists are returned in a stable order
// (creation order unless stated).
type Tx interface {
	// Accounts.
	CreateAccount(ctx context.Context, a Account) error
	GetAccount(ctx context.Context, id string) (Account, error)
	// ResolveAccount is GetAccount, Revision and ListPlatformAddresses in
	// one statement: the account, the current revision of the feed and the
	// platform addresses, which an account's effective rule lists are
	// resolved from.
	ResolveAccount(ctx context.Context, id string) (a Account, head int64, platform []string, err error)
	// FindAccountByName returns the oldest account of that name.
	FindAccountByName(ctx context.Context, name string) (Account, error)
	UpdateAccount(ctx context.Context, a Account) error
	CountAccounts(ctx context.Context) (int, error)
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

	// The operator's listings and deletions.
	ListAccounts(ctx context.Context) ([]Account, error)
	// AccountResources counts the groups, instances and templates an
	// account owns.
	AccountResources(ctx context.Context, accountID string) (groups, instances, templates int, err error)
	// DeleteAccount deletes an account with its credentials, quota
	// overrides and events; the caller checks it owns nothing else.
	DeleteAccount(ctx context.Context, id string) error
	// ListCredentials lists an account's credentials (every one for ""),
	// SecretKeys left empty.
	ListCredentials(ctx context.Context, accountID string) ([]Credential, error)
	SetCredentialDisabled(ctx context.Context, secretID string, disabled bool) error
	DeleteCredential(ctx context.Context, secretID string) error
	ListHosts(ctx context.Context) ([]Host, error)
	// HostInstances lists the instances on a host that are not terminated.
	HostInstances(ctx context.Context, hostID string) ([]string, error)
	// DeleteHost deletes a host with its credentials, its agent's status
	// and its counters.
	DeleteHost(ctx context.Context, id string) error

	// What hosts' agents report. These writes are not changes of the
	// desired state: they commit no feed entry (a transaction that writes
	// nothing else leaves the revision as it was).

	// SetHostStatus stores what a host's agent last reported, replacing
	// the previous report.
	SetHostStatus(ctx context.Context, s HostStatus) error
	// GetHostStatus returns a host's last report, ErrNotFound before any.
	GetHostStatus(ctx context.Context, hostID string) (HostStatus, error)

	// Policy writes awaiting confirmation (ConfirmWithin). These writes
	// commit no feed entry either.

	// SetPendingConfirmation stores the group's pending confirmation,
	// replacing any it had.
	SetPendingConfirmation(ctx context.Context, p PendingConfirmation) error
	// GetPendingConfirmation returns the group's pending confirmation,
	// ErrNotFound when none.
	GetPendingConfirmation(ctx context.Context, groupID string) (PendingConfirmation, error)
	// DeletePendingConfirmation removes the group's pending confirmation,
	// ErrNotFound when none.
	DeletePendingConfirmation(ctx context.Context, groupID string) error
	// ListDueConfirmations returns the pending confirmations whose
	// deadline is not after now, earliest first.
	ListDueConfirmations(ctx context.Context, now time.Time) ([]PendingConfirmation, error)
	// ListHostStatus returns the last report of each of hostIDs that has
	// reported, in hostIDs' order.
	ListHostStatus(ctx context.Context, hostIDs []string) ([]HostStatus, error)
	// AddHostCounters adds a report of cumulative counters of a host's
	// agent, started at agentStart, to the totals kept per counter (see
	// CounterTotal): a report of the same run replaces the run's values; a
	// report of a later run, or one whose values went down (the counters
	// were reset), first adds the run's last values to the totals of the
	// past runs; a report of an earlier run than the one stored is late
	// and changes nothing.
	AddHostCounters(ctx context.Context, hostID string, agentStart, at time.Time, counters []HostCounter) error
	// GroupCounters returns the totals of every counter of a security
	// group's policies, on every host, sorted by host, instance, direction
	// and index.
	GroupCounters(ctx context.Context, groupID string) ([]CounterTotal, error)

	// Accepted request signatures, kept where every replica sees them so
	// that a request accepted once is refused as a replay everywhere. Like
	// hosts' reports, these writes commit no feed entry.

	// RememberSignature stores s unless a signature equal to s.Signature
	// is stored already (expired or not), and returns the one stored
	// first — s itself when it is new — and whether s is new.
	RememberSignature(ctx context.Context, s Signature) (Signature, bool, error)
	// PruneSignatures deletes the signatures that expired before t and
	// returns how many it deleted.
	PruneSignatures(ctx context.Context, t time.Time) (int, error)

	// Platform service addresses (prefix strings). Changing them is a
	// platform-wide change.
	AddPlatformAddress(ctx context.Context, prefix string) error
	DeletePlatformAddress(ctx context.Context, prefix string) error
	ListPlatformAddresses(ctx context.Context) ([]string, error)

	// Security groups. CreateGroup and UpdateGroup keep the reference index
	// in step with the policies' peers and service templates.
	CreateGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, id string) (Group, error)
	// GetAccountGroup finds a group by id within one account and region,
	// in the query itself: a group of another account or region is
	// ErrNotFound exactly as a missing one is, so that a tenant cannot
	// tell another's ids from missing ones.
	GetAccountGroup(ctx context.Context, accountID, region, id string) (Group, error)
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
	// GetAccountInstance finds an instance by id within one region and
	// account ("" matches every account: the platform's lookups), in the
	// query itself, as GetAccountGroup does.
	GetAccountInstance(ctx context.Context, accountID, region, id string) (Instance, error)
	// UpdateInstance stores the instance's fields, bindings included.
	UpdateInstance(ctx context.Context, in Instance) error
	ListInstances(ctx context.Context, f InstanceFilter) ([]Instance, int, error)
	// CountBindings returns, for each of groupIDs, how many instances are
	// bound to it.
	CountBindings(ctx context.Context, groupIDs []string) (map[string]int, error)

	// The change feed. Revision returns the current revision: that of the
	// latest change, 0 before any. Changes returns it too (head), with the
	// changes after since up to head in revision order — only those of
	// accountID and the platform-wide ones (AccountID "") when accountID is
	// not "". When more than limit revisions follow since (limit <= 0: no
	// limit), it returns none of them, only head: read everything again or
	// ask with a larger limit. Otherwise since older than the oldest change
	// kept, or newer than head, is ErrCompacted, with head. One statement,
	// reading at most limit entries.
	Revision(ctx context.Context) (int64, error)
	// FlushConnections marks the feed entry this write transaction commits
	// as asking for the connections its new rules no longer admit to be
	// cut (Change.Flush). A transaction that writes nothing commits no
	// entry, marked or not.
	FlushConnections()
	// LastChange returns the revision of the newest feed entry that names
	// id (a group, written or whose members changed, an instance, a
	// template, a host), 0 when the feed holds none. It reads the whole
	// feed: for occasional questions, not for every request.
	LastChange(ctx context.Context, id string) (int64, error)
	Changes(ctx context.Context, since int64, accountID string, limit int) (head int64, changes []Change, err error)

	// Templates (address, service and their groups).
	CreateTemplate(ctx context.Context, t Template) error
	GetTemplate(ctx context.Context, id string) (Template, error)
	// GetAccountTemplate finds a template by id within one account and
	// region, in the query itself, as GetAccountGroup does.
	GetAccountTemplate(ctx context.Context, accountID, region, id string) (Template, error)
	UpdateTemplate(ctx context.Context, t Template) error
	DeleteTemplate(ctx context.Context, id string) error
	ListTemplates(ctx context.Context, f TemplateFilter) ([]Template, int, error)

	// What an instance's effective rule lists are resolved from, each in
	// one statement. The policy sets returned may be shared with other
	// calls: read them, never modify them.

	// GetInstancePolicies returns an instance with its ordered bindings and,
	// in the same order, the policy sets of the groups it is bound to.
	GetInstancePolicies(ctx context.Context, id string) (Instance, []GroupPolicies, error)
	// GetAccountInstancePolicies is GetInstancePolicies for an instance of
	// accountID in region: another account's or region's is ErrNotFound,
	// found by the same one statement as a missing one.
	GetAccountInstancePolicies(ctx context.Context, accountID, region, id string) (Instance, []GroupPolicies, error)
	// ListMembers returns every binding to one of groupIDs, with the bound
	// instance's state and addresses, in the instances' creation order and,
	// for one instance, in binding order.
	ListMembers(ctx context.Context, groupIDs []string) ([]Member, error)
	// ResolveMembers is ListMembers telling, in the same one statement,
	// which of groupIDs exist (in no particular order): a reference to a
	// group that does not exist cannot be told from one to a group nobody
	// is bound to by its members alone.
	ResolveMembers(ctx context.Context, groupIDs []string) (existing []string, members []Member, err error)
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
	Created         time.Time
}

// Change is one entry of the change feed: what one committed write
// transaction touched. The store assigns it, inside the transaction, the
// next revision of one counter for the whole store; every list is sorted
// and holds each id once.
type Change struct {
	// Revision orders the feed; it increases by one with each write.
	Revision int64
	// Time is when the write committed.
	Time time.Time
	// AccountID is the account the write touched, or "" when it is
	// platform-wide or touched several accounts (listed in Accounts) or
	// none (a host or a platform credential created).
	AccountID string
	// Accounts are every account whose rows the write touched: the account
	// itself, its credentials, quotas, events, groups, instances,
	// templates.
	Accounts []string
	// AccountRow: an account's own row was created or written (its port 25
	// block), which every verdict of that account depends on.
	AccountRow bool
	// Groups are the security groups created, deleted, or whose policies
	// or attributes were written.
	Groups []string
	// Members are the groups whose members changed: an instance bound to or
	// unbound from them, or a bound instance's addresses or state written
	// (the instance's bindings before and after the write).
	Members []string
	// Instances are the instances created or written.
	Instances []string
	// Templates are the templates and template groups created, written or
	// deleted.
	Templates []string
	// Hosts are the hosts created.
	Hosts []string
	// Platform: the platform addresses changed, which every account's
	// verdicts depend on.
	Platform bool
	// Flush: the write asked for the existing connections that the rules
	// it makes no longer admit to be cut (FlushConnections).
	Flush bool
}

// AccountEvent is one entry of an account's history.
type AccountEvent struct {
	AccountID string
	Time      time.Time
	Kind      EventKind
	SecretID  string
	RequestID string
	Detail    string
}

// EventKind is what an account event records.
type EventKind string

// The kinds of account event.
const (
	EventUnblockPort25 EventKind = "UnblockPort25"
)

// Credential is a SecretId/SecretKey pair.
type Credential struct {
	SecretID  string
	SecretKey string
	AccountID string // "" for platform and host credentials
	Role      Role
	HostID    string
	Created   time.Time
	Disabled  bool // a disabled credential signs nothing
}

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

// InstanceState is an instance's lifecycle state.
type InstanceState string

// The lifecycle states.
const (
	StateRunning    InstanceState = "RUNNING"
	StateStopped    InstanceState = "STOPPED"
	StateRecycled   InstanceState = "RECYCLED"   // in the recycle bin: keeps its bindings
	StateTerminated InstanceState = "TERMINATED" // bindings released
)

// Host is a machine running an agent.
type Host struct {
	ID      string
	Name    string
	Created time.Time
}

// PendingConfirmation is a policy write made with ConfirmWithin and not
// confirmed yet: unless its Version is confirmed by Deadline, the group's
// RestoreVersion is restored.
type PendingConfirmation struct {
	GroupID        string
	AccountID      string
	Region         string
	Version        uint64 // the version written, to confirm
	RestoreVersion uint64 // the version restored unless confirmed in time
	Deadline       time.Time
	SecretID       string
	RequestID      string
}

// HostStatus is what a host's agent last reported: the revision of the
// desired state it has applied, when it started, when it reported and the
// errors it met.
type HostStatus struct {
	HostID          string
	AppliedRevision int64
	AgentStart      time.Time
	Reported        time.Time
	Errors          []HostError
}

// Signature is an accepted request's signature: the action it was first
// accepted for, whether that action writes, and when the server stops
// accepting its timestamp (it is then safe to forget).
type Signature struct {
	Signature string // 64 hex digits
	Action    string
	Write     bool
	Expires   time.Time
}

// HostError is a problem an agent met with one instance ("" for the host).
type HostError struct {
	InstanceID string
	Message    string
}

// CounterKey names one counted rule of one instance of a host: a group's
// policy (GroupID, PolicyIndex; Platform "") or a platform rule (Platform;
// GroupID "", PolicyIndex −1).
type CounterKey struct {
	HostID      string
	InstanceID  string
	Direction   policy.Direction
	GroupID     string
	Platform    string
	PolicyIndex int
}

// HostCounter is an agent's counter of one rule: packets and bytes since
// the agent started.
type HostCounter struct {
	CounterKey
	Packets, Bytes int64
}

// CounterTotal is the total of one counter over every run of the agent:
// Packets and Bytes counted from Since (the first report) to Updated (the
// last).
type CounterTotal struct {
	CounterKey
	Packets, Bytes int64
	Since, Updated time.Time
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
	HostID     string // "" when not placed
	State      InstanceState
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
	State      InstanceState
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
	States     []InstanceState
	ProjectIDs []int64
	GroupIDs   []string // bound to any of these groups
	// GroupSets narrows further: for each list, bound to one of its groups.
	GroupSets [][]string
	Offset    int
	Limit     int
}

// TemplateKind is what a template holds.
type TemplateKind string

// Template kinds.
const (
	KindAddress      TemplateKind = "address"
	KindAddressGroup TemplateKind = "address-group"
	KindService      TemplateKind = "service"
	KindServiceGroup TemplateKind = "service-group"
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
	Kind      TemplateKind
	Name      string
	Entries   []TemplateEntry
	Created   time.Time
	Updated   time.Time
}

// TemplateFilter selects templates of one kind.
type TemplateFilter struct {
	AccountID string
	Region    string
	Kind      TemplateKind
	IDs       []string
	Names     []string
	Offset    int
	Limit     int
}
