package kernel

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/palisade-sg/palisade/internal/policy"
)

// Limits of a request.
const (
	maxNameLen        = 60
	maxDescriptionLen = 100
	defaultLimit      = 20
	MaxLimit          = 100 // ids in one request, and Limit
	maxFilters        = 10  // filters in one Describe request
	maxFilterValues   = 100 // values of one filter
)

// Filter is one of a Describe call's filters: different filters are ANDed,
// the values of one filter ORed.
type Filter struct {
	Name   string
	Values []string
}

// Page selects part of a listing. Limit 0 means the default (20); the most is
// 100. Offset beyond the end yields an empty page.
type Page struct {
	Offset, Limit int
}

// FieldError returns a field error with a formatted reason.
func FieldError(field, value string, kind policy.ErrorKind, format string, args ...any) *policy.FieldError {
	return &policy.FieldError{Field: field, Value: value, Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// Relabel prefixes the field of every FieldError in err.
func Relabel(prefix string, err error) error {
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

// CheckName checks a resource's name: valid UTF-8 within the length limit,
// with no control or invisible formatting characters (bidi overrides,
// zero-width spaces and joiners, byte order marks), which would let two
// names that look the same differ, and no leading or trailing white space.
func CheckName(field, v string, required bool) error {
	switch n := utf8.RuneCountInString(v); {
	case required && v == "":
		return FieldError(field, "", policy.Missing, "is required")
	case n > maxNameLen:
		return FieldError(field, v, policy.TooLong, "is %d characters; the limit is %d", n, maxNameLen)
	case !utf8.ValidString(v):
		return FieldError(field, "", policy.Malformed, "is not valid UTF-8")
	case strings.TrimSpace(v) != v:
		return FieldError(field, v, policy.Malformed, "must not begin or end with white space")
	}
	for i, r := range v {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return FieldError(field, v, policy.Malformed, "has the invisible or control character %U at byte %d", r, i)
		}
	}
	return nil
}

// CheckDescription checks a description: valid UTF-8 within the length
// limit, with no control characters but tab and newline and no bidi
// controls, which could make it display as something else.
func CheckDescription(field, v string) error {
	if n := utf8.RuneCountInString(v); n > maxDescriptionLen {
		return FieldError(field, v, policy.TooLong, "is %d characters; the limit is %d", n, maxDescriptionLen)
	}
	if !utf8.ValidString(v) {
		return FieldError(field, "", policy.Malformed, "is not valid UTF-8")
	}
	for i, r := range v {
		if r != '\t' && r != '\n' && unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return FieldError(field, v, policy.Malformed, "has the control character %U at byte %d", r, i)
		}
	}
	return nil
}

// CheckCount refuses a list of n items longer than limit.
func CheckCount(field string, n, limit int) error {
	if n > limit {
		return FieldError(field, strconv.Itoa(n), policy.TooMany, "has %d items; the limit is %d", n, limit)
	}
	return nil
}

// CheckFilters refuses more filters, or filter values, than a Describe
// request may carry.
func CheckFilters(filters []Filter) error {
	if err := CheckCount("Filters", len(filters), maxFilters); err != nil {
		return err
	}
	for i, f := range filters {
		if err := CheckCount(fmt.Sprintf("Filters.%d.Values", i), len(f.Values), maxFilterValues); err != nil {
			return err
		}
	}
	return nil
}

// CheckID checks an id: prefix and 8 lowercase letters or digits.
func CheckID(field, prefix, id string) error {
	if !policy.ValidID(prefix, id) {
		return FieldError(field, id, policy.Malformed, "must be %s followed by 8 lowercase letters or digits", prefix)
	}
	return nil
}

// Bounds validates p and returns its offset and limit.
func Bounds(p Page) (int, int, error) {
	if p.Offset < 0 {
		return 0, 0, FieldError("Offset", strconv.Itoa(p.Offset), policy.OutOfRange, "must not be negative")
	}
	switch {
	case p.Limit == 0:
		return p.Offset, defaultLimit, nil
	case p.Limit < 0 || p.Limit > MaxLimit:
		return 0, 0, FieldError("Limit", strconv.Itoa(p.Limit), policy.OutOfRange, "must be between 1 and %d", MaxLimit)
	}
	return p.Offset, p.Limit, nil
}

// Intersect narrows a filter's set of values by another filter of the same
// name (filters are ANDed). For attributes with one value per resource (an
// id, a name, a project) the intersection is exact.
func Intersect[T comparable](cur, next []T, first bool) []T {
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

// NoneLeft reports whether filters narrowed a set of values to nothing, so
// that nothing can match.
func NoneLeft[T any](vs []T) bool { return vs != nil && len(vs) == 0 }

// ProjectIDs parses the values of a project-id filter.
func ProjectIDs(values []string) ([]int64, error) {
	out := make([]int64, 0, len(values))
	for _, v := range values {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, FieldError("Filters.Values", v, policy.Malformed, "project-id must be a number")
		}
		out = append(out, n)
	}
	return out, nil
}

// AppendNew appends id to ids unless it is there.
func AppendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}
