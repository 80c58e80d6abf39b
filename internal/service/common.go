package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/store"
)

const (
	maxNameLen        = 60
	maxDescriptionLen = 100
	defaultLimit      = 20
	maxLimit          = 100 // ids in one request, and Limit
	maxFilters        = 10  // filters in one Describe request
	maxFilterValues   = 100 // values of one filter
	maxAddresses      = 10  // private IPv4 or IPv6 addresses of one instance
)

const alnumLower = "abcdefghijklmnopqrstuvwxyz0123456789"
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randString returns n characters of alphabet drawn uniformly from s.rand.
func (s *Service) randString(alphabet string, n int) (string, error) {
	out := make([]byte, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(alphabet)
	for i := 0; i < n; {
		if _, err := io.ReadFull(s.rand, buf); err != nil {
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

// newID returns prefix and 8 random lowercase letters or digits.
func (s *Service) newID(prefix string) (string, error) {
	r, err := s.randString(alnumLower, policy.IDLength)
	if err != nil {
		return "", err
	}
	return prefix + r, nil
}

func fieldError(field, value string, kind policy.ErrorKind, format string, args ...any) *policy.FieldError {
	return &policy.FieldError{Field: field, Value: value, Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// relabel prefixes the field of every FieldError in err.
func relabel(prefix string, err error) error {
	fes := policy.FieldErrors(err)
	if len(fes) == 0 {
		return err
	}
	errs := make([]error, len(fes))
	for i, fe := range fes {
		c := *fe
		c.Field = prefix + "." + fe.Field
		errs[i] = &c
	}
	return errors.Join(errs...)
}

// checkName checks a resource's name: valid UTF-8 within the length limit,
// with no control or invisible formatting characters (bidi overrides,
// zero-width spaces and joiners, byte order marks), which would let two
// names that look the same differ, and no leading or trailing white space.
func checkName(field, v string, required bool) error {
	switch n := utf8.RuneCountInString(v); {
	case required && v == "":
		return fieldError(field, "", policy.Missing, "is required")
	case n > maxNameLen:
		return fieldError(field, v, policy.TooLong, "is %d characters; the limit is %d", n, maxNameLen)
	case !utf8.ValidString(v):
		return fieldError(field, "", policy.Malformed, "is not valid UTF-8")
	case strings.TrimSpace(v) != v:
		return fieldError(field, v, policy.Malformed, "must not begin or end with white space")
	}
	for i, r := range v {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fieldError(field, v, policy.Malformed, "has the invisible or control character %U at byte %d", r, i)
		}
	}
	return nil
}

// checkDescription checks a description: valid UTF-8 within the length
// limit, with no control characters but tab and newline and no bidi
// controls, which could make it display as something else.
func checkDescription(field, v string) error {
	if n := utf8.RuneCountInString(v); n > maxDescriptionLen {
		return fieldError(field, v, policy.TooLong, "is %d characters; the limit is %d", n, maxDescriptionLen)
	}
	if !utf8.ValidString(v) {
		return fieldError(field, "", policy.Malformed, "is not valid UTF-8")
	}
	for i, r := range v {
		if r != '\t' && r != '\n' && unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fieldError(field, v, policy.Malformed, "has the control character %U at byte %d", r, i)
		}
	}
	return nil
}

// checkCount refuses a list of n items longer than limit.
func checkCount(field string, n, limit int) error {
	if n > limit {
		return fieldError(field, strconv.Itoa(n), policy.TooMany, "has %d items; the limit is %d", n, limit)
	}
	return nil
}

// checkFilters refuses more filters, or filter values, than a Describe
// request may carry.
func checkFilters(filters []Filter) error {
	if err := checkCount("Filters", len(filters), maxFilters); err != nil {
		return err
	}
	for i, f := range filters {
		if err := checkCount(fmt.Sprintf("Filters.%d.Values", i), len(f.Values), maxFilterValues); err != nil {
			return err
		}
	}
	return nil
}

func checkID(field, prefix, id string) error {
	if !policy.ValidID(prefix, id) {
		return fieldError(field, id, policy.Malformed, "must be %s followed by 8 lowercase letters or digits", prefix)
	}
	return nil
}

// page validates p and returns offset and limit.
func page(p Page) (int, int, error) {
	if p.Offset < 0 {
		return 0, 0, fieldError("Offset", strconv.Itoa(p.Offset), policy.OutOfRange, "must not be negative")
	}
	switch {
	case p.Limit == 0:
		return p.Offset, defaultLimit, nil
	case p.Limit < 0 || p.Limit > maxLimit:
		return 0, 0, fieldError("Limit", strconv.Itoa(p.Limit), policy.OutOfRange, "must be between 1 and %d", maxLimit)
	}
	return p.Offset, p.Limit, nil
}

// checkRegion checks that the request's region is configured.
func (s *Service) checkRegion(region string) (Region, error) {
	if region == "" {
		return Region{}, fieldError("Region", "", policy.Missing, "is required (X-TC-Region)")
	}
	for _, r := range s.regions {
		if r.Name == region {
			return r, nil
		}
	}
	return Region{}, &Error{Kind: KindUnsupportedRegion, Field: "Region", Message: fmt.Sprintf("region %s does not exist", region)}
}

// tenant checks that c acts for an account in a configured region, with a
// role allowed to read (write false) or write (write true).
func (s *Service) tenant(c Caller, write bool) error {
	switch c.Role {
	case RoleAdmin:
	case RoleReadOnly:
		if write {
			return forbidden("credential %s is read-only", c.SecretID)
		}
	default:
		return forbidden("role %q cannot act on account resources", c.Role)
	}
	if c.AccountID == "" {
		return forbidden("credential %s has no account", c.SecretID)
	}
	_, err := s.checkRegion(c.Region)
	return err
}

func (s *Service) view(ctx context.Context, fn func(store.Tx) error) error {
	return s.st.View(ctx, fn)
}

// update runs fn in one write transaction, which the store may run again on
// a lock conflict (fn must not accumulate state across runs). The store
// records what it changed in its feed, where the simulation cache reads it;
// the store's errors of a race become domain errors.
func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	return fromStore(s.st.Tx(ctx, fn))
}

// effectiveQuotas returns the account's quotas: overrides over the defaults.
func (s *Service) effectiveQuotas(ctx context.Context, tx store.Tx, accountID string) (Quotas, error) {
	over, err := tx.QuotaOverrides(ctx, accountID)
	if err != nil {
		return Quotas{}, err
	}
	var q Quotas
	for _, spec := range QuotaSpecs() {
		*spec.Field(&q) = over[spec.Name]
	}
	return mergeQuotas(s.quotas, q), nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", err.Error())
	}
	return string(b)
}

// intersect narrows a filter's set of values by another filter of the same
// name (filters are ANDed). For attributes with one value per resource (an
// id, a name, a project) the intersection is exact.
func intersect[T comparable](cur, next []T, first bool) []T {
	if first {
		return append([]T(nil), next...)
	}
	out := []T{}
	for _, v := range cur {
		if slices.Contains(next, v) {
			out = append(out, v)
		}
	}
	return out
}

// noneLeft reports whether filters narrowed a set of values to nothing, so
// that nothing can match.
func noneLeft[T any](vs []T) bool { return vs != nil && len(vs) == 0 }

// projectIDs parses the values of a project-id filter.
func projectIDs(values []string) ([]int64, error) {
	out := make([]int64, 0, len(values))
	for _, v := range values {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, fieldError("Filters.Values", v, policy.Malformed, "project-id must be a number")
		}
		out = append(out, n)
	}
	return out, nil
}

// appendNew appends id to ids unless it is there.
func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}
