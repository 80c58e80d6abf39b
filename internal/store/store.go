// Package store is Palisade's persistence interface: a Store runs
// transactions over accounts, credentials, hosts, instances, security groups,
// templates and history. Backends live in subpackages (sqlite, later
// postgres) and all pass the storetest suite.
package store

import (
	"context"
	"errors"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotFound: no row with that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key is already taken.
	ErrConflict = errors.New("conflict")
	// ErrVersionMismatch: a conditional update found another version.
	ErrVersionMismatch = errors.New("version mismatch")
)

// Store is a transactional store.
type Store interface {
	// Tx runs fn in one read-write transaction, committed when fn returns
	// nil and rolled back otherwise. Writers are serialised.
	Tx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	Close() error
}

// Tx is the work a transaction can do.
type Tx interface{}
