package service

import "github.com/palisade-sg/palisade/internal/service/kernel"

// Kind classifies a domain error so that a front end can choose its error
// code without reading messages (see kernel.Kind).
type Kind = kernel.Kind

// The kinds of domain error.
const (
	KindInvalid           = kernel.KindInvalid
	KindNotFound          = kernel.KindNotFound
	KindInUse             = kernel.KindInUse
	KindLimitExceeded     = kernel.KindLimitExceeded
	KindVersionMismatch   = kernel.KindVersionMismatch
	KindDuplicate         = kernel.KindDuplicate
	KindDuplicatePolicy   = kernel.KindDuplicatePolicy
	KindUnsupported       = kernel.KindUnsupported
	KindForbidden         = kernel.KindForbidden
	KindUnsupportedRegion = kernel.KindUnsupportedRegion
	KindUnresolvable      = kernel.KindUnresolvable
	KindBusy              = kernel.KindBusy
	KindNotApplied        = kernel.KindNotApplied
	KindLockoutPrevented  = kernel.KindLockoutPrevented
)

// Resource names, carried by Error.Resource.
const (
	ResourceSecurityGroup        = kernel.ResourceSecurityGroup
	ResourceInstance             = kernel.ResourceInstance
	ResourceAddressTemplate      = kernel.ResourceAddressTemplate
	ResourceAddressTemplateGroup = kernel.ResourceAddressTemplateGroup
	ResourceServiceTemplate      = kernel.ResourceServiceTemplate
	ResourceServiceTemplateGroup = kernel.ResourceServiceTemplateGroup
	ResourceAccount              = kernel.ResourceAccount
	ResourceCredential           = kernel.ResourceCredential
	ResourceHost                 = kernel.ResourceHost
	ResourcePolicy               = kernel.ResourcePolicy
)

// Error is a domain error of the service.
type Error = kernel.Error

// fromStore maps the store's race and busy errors to domain errors
// (kernel.FromStore).
func fromStore(err error) error { return kernel.FromStore(err) }
