package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// The API is lenient on input: the official SDK sends Version and Limit as
// JSON strings and PolicyIndex as a number, the documentation's examples do
// the opposite, and the GET form carries everything as text. These scalar
// types accept a JSON string, number or boolean and keep the text; a field
// declared as a pointer to one is absent when nil, so absent differs from
// empty.

// flexString is a string field that also accepts numbers and booleans.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	*s = flexString(v)
	return nil
}

// flexInt is an integer field that also accepts a string holding one. The
// text is kept so that a malformed value can be reported as given.
type flexInt struct {
	text string
}

func (n *flexInt) UnmarshalJSON(b []byte) error {
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	n.text = strings.TrimSpace(v)
	return nil
}

// int64 parses the value, reporting field and value when it is not an
// integer.
func (n flexInt) int64(field string) (int64, error) {
	v, err := strconv.ParseInt(n.text, 10, 64)
	if err != nil {
		return 0, malformed(field, n.text, "must be an integer")
	}
	return v, nil
}

// flexBool is a boolean field that also accepts "true"/"false" (any case),
// "1"/"0" and the numbers 1 and 0.
type flexBool struct {
	text string
}

func (v *flexBool) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	v.text = strings.TrimSpace(t)
	return nil
}

func (v flexBool) bool(field string) (bool, error) {
	switch strings.ToLower(v.text) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, malformed(field, v.text, "must be true or false")
}

// scalarText returns the text of a JSON string, number or boolean.
func scalarText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", fmt.Errorf("empty value")
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		// The decoder adds the field's path to an UnmarshalTypeError.
		return "", &json.UnmarshalTypeError{Value: kindOf(b[0]), Type: reflect.TypeFor[string]()}
	}
	// number, true, false (null never reaches UnmarshalJSON of a pointer).
	if string(b) == "null" {
		return "", nil
	}
	return string(b), nil
}

func kindOf(c byte) string {
	if c == '{' {
		return "object"
	}
	return "array"
}

// str returns the text of an optional string field ("" when absent).
func str(s *flexString) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// strs converts a list of flexible strings.
func strs(in []flexString) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}
