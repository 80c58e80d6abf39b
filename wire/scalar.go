package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// The flexible scalars. The official SDK sends Version and Limit as JSON
// strings and PolicyIndex as a number, the cloud's documentation examples
// do the opposite, and the GET form of a request carries everything as
// text; so each type below accepts a JSON string, number or boolean when
// decoding and keeps the text. A JSON object or array is rejected with a
// *json.UnmarshalTypeError, to which the decoder adds the field's path.
// JSON null leaves a pointer field nil (absent).
//
// When encoding, each emits exactly the JSON type the official SDK sends
// for the fields declared with it.

// String is a string field. It accepts a JSON string, number or boolean
// (the number or boolean as written: 20 reads as "20") and emits a JSON
// string.
type String string

// NewString returns a pointer to s as a String, for optional fields.
func NewString(s string) *String {
	v := String(s)
	return &v
}

// Strings converts ss to a list of Strings; nil stays nil.
func Strings(ss ...string) []String {
	if ss == nil {
		return nil
	}
	out := make([]String, len(ss))
	for i, s := range ss {
		out[i] = String(s)
	}
	return out
}

// UnmarshalJSON accepts a JSON string, number or boolean.
func (s *String) UnmarshalJSON(b []byte) error {
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	*s = String(v)
	return nil
}

// Int is an integer field sent as a JSON number (PolicyIndex, cvm Offset
// and Limit, Palisade's ProjectId and Port). It accepts a JSON number or a
// string holding one, and keeps the text as given (trimmed) so that a
// malformed value can be reported as the caller wrote it. It emits a JSON
// number; encoding an Int whose text is not an integer is an error.
type Int struct {
	text string
}

// NewInt returns a pointer to an Int holding n, for optional fields.
func NewInt(n int64) *Int {
	return &Int{text: strconv.FormatInt(n, 10)}
}

// Text returns the value's text as received ("" for a JSON "" or null).
func (n Int) Text() string { return n.text }

// Int64 parses the value; an error names the text when it is not a
// decimal integer.
func (n Int) Int64() (int64, error) {
	return parseInt(n.text)
}

// UnmarshalJSON accepts a JSON number or a string (a boolean is kept as
// its text and fails in Int64).
func (n *Int) UnmarshalJSON(b []byte) error {
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	n.text = strings.TrimSpace(v)
	return nil
}

// MarshalJSON emits the integer as a JSON number.
func (n Int) MarshalJSON() ([]byte, error) {
	v, err := n.Int64()
	if err != nil {
		return nil, err
	}
	return strconv.AppendInt(nil, v, 10), nil
}

// IntString is an integer field sent as a JSON string, as vpc actions carry
// ProjectId, Offset and Limit ("0", "20"). It accepts a JSON string or
// number and keeps the text as given (trimmed). It emits a JSON string: the
// integer, or "" when the text is empty; encoding any other text is an
// error.
type IntString Int

// NewIntString returns a pointer to an IntString holding n, for optional
// fields.
func NewIntString(n int64) *IntString {
	return &IntString{text: strconv.FormatInt(n, 10)}
}

// Text returns the value's text as received.
func (n IntString) Text() string { return n.text }

// Int64 parses the value; an error names the text when it is not a
// decimal integer.
func (n IntString) Int64() (int64, error) {
	return parseInt(n.text)
}

// UnmarshalJSON accepts a JSON string or number.
func (n *IntString) UnmarshalJSON(b []byte) error {
	return (*Int)(n).UnmarshalJSON(b)
}

// MarshalJSON emits the integer as a JSON string.
func (n IntString) MarshalJSON() ([]byte, error) {
	if n.text == "" {
		return []byte(`""`), nil
	}
	v, err := n.Int64()
	if err != nil {
		return nil, err
	}
	return strconv.AppendQuote(nil, strconv.FormatInt(v, 10)), nil
}

// Bool is a boolean field. It accepts JSON true and false, the strings
// "true" and "false" in any case, "1" and "0", the numbers 1 and 0, and ""
// (false). It emits a JSON boolean; encoding any other text is an error.
type Bool struct {
	text string
}

// NewBool returns a pointer to a Bool holding b, for optional fields.
func NewBool(b bool) *Bool {
	return &Bool{text: strconv.FormatBool(b)}
}

// Text returns the value's text as received.
func (v Bool) Text() string { return v.text }

// Bool parses the value; an error names the text when it is not one of
// the accepted forms.
func (v Bool) Bool() (bool, error) {
	switch strings.ToLower(v.text) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", v.text)
}

// UnmarshalJSON accepts a JSON boolean, number or string.
func (v *Bool) UnmarshalJSON(b []byte) error {
	t, err := scalarText(b)
	if err != nil {
		return err
	}
	v.text = strings.TrimSpace(t)
	return nil
}

// MarshalJSON emits a JSON boolean.
func (v Bool) MarshalJSON() ([]byte, error) {
	b, err := v.Bool()
	if err != nil {
		return nil, err
	}
	return strconv.AppendBool(nil, b), nil
}

func parseInt(text string) (int64, error) {
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", text)
	}
	return v, nil
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
	// number, true, false; null reaches here only for a non-pointer field.
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
