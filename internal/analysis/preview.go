package analysis

import (
	"fmt"

	"github.com/palisade-sg/palisade/internal/regions"
	"github.com/palisade-sg/palisade/internal/rules"
)

// Delta is what a change does to one direction of an effective list: the
// packets the new list admits and the old one did not (Gains, each region
// owned by the new list's entry that admits it) and those the old list
// admitted and the new one does not (Losses, owned by the old list's
// entry). Both are exact regions of the packet space (see regions).
type Delta struct {
	Gains, Losses *regions.Result
}

// Empty reports whether the change admits exactly the same packets.
func (d Delta) Empty() bool { return d.Gains.Len() == 0 && d.Losses.Len() == 0 }

// ListDelta returns the difference of the packets old and new admit. More
// than limit regions for either list (limit < 1 is no limit) is an error:
// the change is too large to preview exactly.
func ListDelta(old, new rules.List, limit int) (Delta, error) {
	accOld, err := acceptedSpace(old, limit)
	if err != nil {
		return Delta{}, fmt.Errorf("old %s list: %w", old.Direction, err)
	}
	accNew, err := acceptedSpace(new, limit)
	if err != nil {
		return Delta{}, fmt.Errorf("new %s list: %w", new.Direction, err)
	}
	var d Delta
	if d.Gains, err = regions.Subtract(accNew, accOld); err != nil {
		return Delta{}, err
	}
	if d.Losses, err = regions.Subtract(accOld, accNew); err != nil {
		return Delta{}, err
	}
	return d, nil
}

func acceptedSpace(l rules.List, limit int) (*regions.Result, error) {
	r, err := regions.Compute(l, limit)
	if err != nil {
		return nil, err
	}
	if r.Truncated {
		return nil, fmt.Errorf("more than %d regions", limit)
	}
	return regions.Accepted(r, l)
}
