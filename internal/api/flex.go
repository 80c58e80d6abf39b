package api

import (
	"github.com/palisade-sg/palisade/wire"
)

// Reading the flexible scalars of package wire. The API is lenient on
// input (see wire's package documentation); these helpers turn a decoded
// value into what the service takes, reporting a malformed one with the
// request field's path and the text as the caller wrote it.

// integer parses a present integer field.
func integer(field string, n *wire.Int) (int64, error) {
	v, err := n.Int64()
	if err != nil {
		return 0, malformed(field, n.Text(), "must be an integer")
	}
	return v, nil
}

// boolean parses a present boolean field.
func boolean(field string, v *wire.Bool) (bool, error) {
	b, err := v.Bool()
	if err != nil {
		return false, malformed(field, v.Text(), "must be true or false")
	}
	return b, nil
}

// str returns the text of an optional string field ("" when absent).
func str(s *wire.String) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// strs converts a list of flexible strings.
func strs(in []wire.String) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}
