package kernel

import (
	"errors"
	"fmt"
	"strings"

	"github.com/palisade-sg/palisade/internal/store"
)

// Kind classifies a domain error so that a front end can choose its error
// code without reading messages.
type Kind uint8

// The kinds of domain error.
const (
	// KindInvalid is a request that is wrong as a whole (not one field).
	KindInvalid Kind = iota + 1
	// KindNotFound: the resource (Resource, ID) does not exist for the caller,
	// in the caller's region and account.
	KindNotFound
	// KindInUse: the resource cannot be deleted; Blockers names what holds it
	// (instance ids, security-group ids, template-group ids).
	KindInUse
	// KindLimitExceeded: a quota (Quota) would be exceeded.
	KindLimitExceeded
	// KindVersionMismatch: the request named a Version that is not the
	// group's current one; nothing changed.
	KindVersionMismatch
	// KindDuplicate: a name already taken (Field names the field).
	KindDuplicate
	// KindDuplicatePolicy: a policy equal to one already in its direction (or
	// twice in one request).
	KindDuplicatePolicy
	// KindUnsupported: an operation Palisade does not perform, such as a
	// cross-region clone of a group whose policies reference groups or
	// templates (Blockers lists those policies) or deleting a default group,
	// or one the resource's state forbids (binding a terminated instance).
	KindUnsupported
	// KindForbidden: the caller's role may not do this.
	KindForbidden
	// KindUnsupportedRegion: the request's region is not configured.
	KindUnsupportedRegion
	// KindUnresolvable: stored data an answer depends on does not resolve
	// (a value that does not parse, a referenced template that does not
	// exist); nothing is answered from it. The message names the problems.
	KindUnresolvable
	// KindBusy: the store stayed busy (lock conflicts) through every
	// retry; nothing changed and the request may be sent again.
	KindBusy
	// KindNotApplied: a write is committed, but the hosts it affects
	// (Blockers) had not all reported applying it when the caller's wait
	// ran out.
	KindNotApplied
	// KindLockoutPrevented: a write would cut the caller's own login path
	// (SSH or remote desktop) to an instance (ID) it reaches now; nothing
	// changed, and the request may be forced.
	KindLockoutPrevented
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "Invalid"
	case KindNotFound:
		return "NotFound"
	case KindInUse:
		return "InUse"
	case KindLimitExceeded:
		return "LimitExceeded"
	case KindVersionMismatch:
		return "VersionMismatch"
	case KindDuplicate:
		return "Duplicate"
	case KindDuplicatePolicy:
		return "DuplicatePolicy"
	case KindUnsupported:
		return "Unsupported"
	case KindForbidden:
		return "Forbidden"
	case KindUnsupportedRegion:
		return "UnsupportedRegion"
	case KindUnresolvable:
		return "Unresolvable"
	case KindBusy:
		return "Busy"
	case KindNotApplied:
		return "NotApplied"
	case KindLockoutPrevented:
		return "LockoutPrevented"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Resource names, carried by Error.Resource.
const (
	ResourceSecurityGroup        = "SecurityGroup"
	ResourceInstance             = "Instance"
	ResourceAddressTemplate      = "AddressTemplate"
	ResourceAddressTemplateGroup = "AddressTemplateGroup"
	ResourceServiceTemplate      = "ServiceTemplate"
	ResourceServiceTemplateGroup = "ServiceTemplateGroup"
	ResourceAccount              = "Account"
	ResourceCredential           = "Credential"
	ResourceHost                 = "Host"
	ResourcePolicy               = "SecurityGroupPolicy"
)

// Error is a domain error of the service.
type Error struct {
	Kind     Kind
	Resource string   // Resource… constant, when one resource is concerned
	ID       string   // that resource's id
	Field    string   // the request field concerned, if any ("GroupName", "SecurityGroupPolicySet.Version")
	Quota    string   // Quota… constant, for KindLimitExceeded
	Limit    int      // the quota's value, for KindLimitExceeded
	Blockers []string // for KindInUse and KindUnsupported: what holds or prevents it
	Message  string   // human explanation, complete on its own
	cause    error    // the store error it translates, if any
}

// Unwrap returns the store error the domain error translates, if any.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if len(e.Blockers) > 0 && !strings.Contains(msg, e.Blockers[0]) {
		msg += ": " + strings.Join(e.Blockers, ", ")
	}
	return msg
}

// NotFound is a KindNotFound error about a resource.
func NotFound(resource, id string) *Error {
	return &Error{Kind: KindNotFound, Resource: resource, ID: id, Message: fmt.Sprintf("%s %s not found", resource, id)}
}

// Forbidden is a KindForbidden error.
func Forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Message: fmt.Sprintf(format, args...)}
}

// LimitExceeded is a KindLimitExceeded error about a quota.
func LimitExceeded(quota string, limit int, format string, args ...any) *Error {
	return &Error{Kind: KindLimitExceeded, Quota: quota, Limit: limit, Message: fmt.Sprintf(format, args...)}
}

// FromStore translates the store's sentinel errors a request can meet when
// it races another (a version or unique key taken between the service's
// check and its write, a store busy through every retry) into domain
// errors, which keep the store error as their cause. Domain errors and any
// other error pass through.
func FromStore(err error) error {
	var e *Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	switch {
	case errors.Is(err, store.ErrBusy):
		return &Error{Kind: KindBusy, cause: err, Message: "the store is busy; nothing changed, retry the request"}
	case errors.Is(err, store.ErrVersionMismatch):
		return &Error{Kind: KindVersionMismatch, cause: err,
			Message: fmt.Sprintf("%v: the resource changed while the request ran; nothing changed, read it again and retry", err)}
	case errors.Is(err, store.ErrConflict):
		return &Error{Kind: KindDuplicate, cause: err,
			Message: fmt.Sprintf("%v: a resource with that name or id was created while the request ran; nothing changed", err)}
	}
	return err
}
