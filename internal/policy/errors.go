package policy

import "fmt"

// ErrorKind classifies a FieldError so that front ends can map it to their
// own error codes without parsing messages.
type ErrorKind uint8

const (
	// Malformed is a value that does not parse.
	Malformed ErrorKind = iota + 1
	// OutOfRange is a value that parses but lies outside its allowed range.
	OutOfRange
	// Missing is a required value that is absent or empty.
	Missing
	// Coexist is a value given together with another it excludes.
	Coexist
	// TooLong is a value longer than its limit.
	TooLong
	// TooMany is a list with more items than its limit.
	TooMany
)

func (k ErrorKind) String() string {
	switch k {
	case Malformed:
		return "malformed"
	case OutOfRange:
		return "out of range"
	case Missing:
		return "missing"
	case Coexist:
		return "conflicting"
	case TooLong:
		return "too long"
	case TooMany:
		return "too many"
	}
	return fmt.Sprintf("ErrorKind(%d)", uint8(k))
}

// FieldError reports one invalid field: which field, the value given and why
// it was rejected.
type FieldError struct {
	Field  string
	Value  string
	Kind   ErrorKind
	Reason string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

func fieldErr(field, value string, kind ErrorKind, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Value: value, Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// FieldErrors returns every FieldError in err's tree (errors.Join trees
// included), in order.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
