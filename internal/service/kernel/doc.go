// Package kernel is what the parts of the service share: the caller and
// its role, the domain error and its kinds, quotas and regions, the shared
// configuration (Base: clock, identifiers, default quotas, regions) with
// the tenancy check, and the pure validation of request fields (names,
// descriptions, ids, list caps, filters, paging). It imports no part of
// the service above it.
package kernel
