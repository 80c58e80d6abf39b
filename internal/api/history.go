package api

import (
	"strconv"
	"strings"

	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// Palisade's history actions: a group's history and the restore of an
// earlier version.

func (h *handler) describeSecurityGroupHistory(c *call, req *wire.DescribeSecurityGroupHistoryRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	p, err := page((*wire.Int)(req.Offset), (*wire.Int)(req.Limit))
	if err != nil {
		return nil, err
	}
	q := service.HistoryQuery{SecurityGroupID: id, Page: p}
	if v := str(req.Version); strings.TrimSpace(v) != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, malformed("Version", v, "must be a decimal integer")
		}
		q.Version = &n
	}
	entries, total, err := h.svc.DescribeSecurityGroupHistory(c.ctx, c.caller, q)
	if err != nil {
		return nil, err
	}
	out := wire.DescribeSecurityGroupHistoryResponse{HistorySet: make([]wire.SecurityGroupHistory, len(entries)), TotalCount: uint64(total)}
	for i, e := range entries {
		changes := make([]wire.HistoryChange, len(e.Diff))
		text := make([]string, len(e.Diff))
		for j, l := range e.Diff {
			changes[j] = wire.HistoryChange{Kind: l.Kind, Text: l.Text}
			text[j] = l.String()
		}
		restored := ""
		if e.RestoredFrom != 0 {
			restored = strconv.FormatUint(e.RestoredFrom, 10)
		}
		out.HistorySet[i] = wire.SecurityGroupHistory{
			Version: strconv.FormatUint(e.Version, 10), Time: vpcTime(e.Time), SecretId: e.SecretID, RequestId: e.RequestID,
			Action: e.Action, Diff: strings.Join(text, "\n"), Changes: changes, RestoredFrom: restored,
		}
	}
	return out, nil
}

func (h *handler) restoreSecurityGroupVersion(c *call, req *wire.RestoreSecurityGroupVersionRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	version, err := requireVersion("Version", req.Version)
	if err != nil {
		return nil, err
	}
	in := service.RestoreInput{SecurityGroupID: id, Version: version}
	if cur := str(req.SecurityGroupPolicySetVersion); strings.TrimSpace(cur) != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(cur), 10, 64)
		if err != nil {
			return nil, malformed("SecurityGroupPolicySetVersion", cur, "must be a decimal integer")
		}
		in.CurrentVersion = &n
	}
	r, err := writeResult(h.svc.RestoreSecurityGroupVersion(c.ctx, c.caller, in))
	return answer(wire.RestoreSecurityGroupVersionResponse(r), err)
}
