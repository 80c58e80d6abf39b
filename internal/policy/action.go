package policy

import (
	"fmt"
	"strings"
)

// Action is what a matching policy does to a packet. The zero value is
// invalid.
type Action uint8

// The two actions.
const (
	Accept Action = iota + 1
	Drop
)

// ParseAction parses ACCEPT or DROP, case-insensitively.
func ParseAction(s string) (Action, error) {
	switch t := strings.TrimSpace(s); {
	case strings.EqualFold(t, "ACCEPT"):
		return Accept, nil
	case strings.EqualFold(t, "DROP"):
		return Drop, nil
	}
	return 0, fieldErr("Action", s, Malformed, "must be ACCEPT or DROP")
}

// Valid reports whether a is Accept or Drop.
func (a Action) Valid() bool { return a == Accept || a == Drop }

func (a Action) String() string {
	switch a {
	case Accept:
		return "ACCEPT"
	case Drop:
		return "DROP"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("invalid action %d", uint8(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Direction is the direction of traffic a policy filters, seen from the
// instance. The zero value is invalid.
type Direction uint8

// The two directions.
const (
	Ingress Direction = iota + 1 // inbound: the peer is the source
	Egress                       // outbound: the peer is the destination
)

// ParseDirection parses INGRESS/EGRESS (also INBOUND/OUTBOUND),
// case-insensitively.
func ParseDirection(s string) (Direction, error) {
	switch t := strings.ToUpper(strings.TrimSpace(s)); t {
	case "INGRESS", "INBOUND":
		return Ingress, nil
	case "EGRESS", "OUTBOUND":
		return Egress, nil
	}
	return 0, fieldErr("Direction", s, Malformed, "must be INGRESS or EGRESS")
}

// Valid reports whether d is Ingress or Egress.
func (d Direction) Valid() bool { return d == Ingress || d == Egress }

// String returns INGRESS or EGRESS.
func (d Direction) String() string {
	switch d {
	case Ingress:
		return "INGRESS"
	case Egress:
		return "EGRESS"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Field returns the API's name for a direction's policy list: Ingress or
// Egress.
func (d Direction) Field() string {
	if d == Egress {
		return "Egress"
	}
	return "Ingress"
}

// MarshalText implements encoding.TextMarshaler.
func (d Direction) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("invalid direction %d", uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Direction) UnmarshalText(b []byte) error {
	v, err := ParseDirection(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
