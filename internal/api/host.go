package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/palisade-sg/palisade/internal/hoststate"
	"github.com/palisade-sg/palisade/internal/policy"
	"github.com/palisade-sg/palisade/internal/service"
	"github.com/palisade-sg/palisade/wire"
)

// The host protocol's actions, which only a host credential may call.

func (h *handler) describeHostState(c *call, _ *wire.DescribeHostStateRequest) (any, error) {
	st, err := h.svc.DescribeHostState(c.ctx, c.caller)
	if err != nil {
		return nil, err
	}
	w, err := hoststate.Encode(st)
	if err != nil {
		return nil, fmt.Errorf("state of host %s: %w", st.HostID, err)
	}
	return wire.DescribeHostStateResponse{HostState: w}, nil
}

func (h *handler) watchHostState(c *call, req *wire.WatchHostStateRequest) (any, error) {
	in := service.WatchHostInput{Wait: wire.DefaultWatchHostStateWait * time.Second}
	if req.Revision != nil && req.Revision.Text() != "" {
		rev, err := integer("Revision", req.Revision)
		if err != nil {
			return nil, err
		}
		in.Revision = rev
	}
	if req.WaitSeconds != nil && req.WaitSeconds.Text() != "" {
		secs, err := integer("WaitSeconds", req.WaitSeconds)
		if err != nil {
			return nil, err
		}
		if secs < 0 || secs > wire.MaxWatchHostStateWait {
			return nil, outOfRange("WaitSeconds", req.WaitSeconds.Text(), fmt.Sprintf("must be between 0 and %d", wire.MaxWatchHostStateWait))
		}
		in.Wait = time.Duration(secs) * time.Second
	}
	if req.Partial != nil {
		p, err := boolean("Partial", req.Partial)
		if err != nil {
			return nil, err
		}
		in.Partial = p
	}
	w, err := h.svc.WatchHostState(c.ctx, c.caller, in)
	if err != nil {
		return nil, err
	}
	out := wire.WatchHostStateResponse{Revision: w.Revision, Changed: w.Changed, Resync: w.Resync, Partial: w.Partial, Removed: w.Removed}
	if w.State != nil {
		st, err := hoststate.Encode(*w.State)
		if err != nil {
			return nil, fmt.Errorf("state of host %s: %w", w.State.HostID, err)
		}
		out.State = &st
	}
	return out, nil
}

func (h *handler) reportHostStatus(c *call, req *wire.ReportHostStatusRequest) (any, error) {
	var in service.HostReport
	if req.AppliedRevision == nil || req.AppliedRevision.Text() == "" {
		return nil, missing("AppliedRevision")
	}
	rev, err := integer("AppliedRevision", req.AppliedRevision)
	if err != nil {
		return nil, err
	}
	in.AppliedRevision = rev
	start, err := requireString("AgentStartTime", req.AgentStartTime)
	if err != nil {
		return nil, err
	}
	if in.AgentStart, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(start)); err != nil {
		return nil, malformed("AgentStartTime", start, "must be an RFC 3339 time (2006-01-02T15:04:05Z)")
	}
	for i, e := range req.Errors {
		msg, err := requireString(fmt.Sprintf("Errors.%d.Message", i), e.Message)
		if err != nil {
			return nil, err
		}
		in.Errors = append(in.Errors, service.HostError{InstanceID: strings.TrimSpace(str(e.InstanceId)), Message: msg})
	}
	for i, k := range req.Counters {
		field := fmt.Sprintf("Counters.%d.", i)
		id, err := requireString(field+"InstanceId", k.InstanceId)
		if err != nil {
			return nil, err
		}
		d, err := requireString(field+"Direction", k.Direction)
		if err != nil {
			return nil, err
		}
		dir, err := policy.ParseDirection(d)
		if err != nil {
			return nil, malformed(field+"Direction", d, "must be INGRESS or EGRESS")
		}
		hc := service.HostCounter{}
		hc.InstanceID, hc.Direction = strings.TrimSpace(id), dir
		hc.GroupID, hc.Platform, hc.PolicyIndex = strings.TrimSpace(str(k.SecurityGroupId)), strings.TrimSpace(str(k.Platform)), -1
		if hc.Platform != "" && hc.Platform != wire.PlatformPort25Blocked && hc.Platform != wire.PlatformServiceAddress {
			return nil, malformed(field+"Platform", hc.Platform, "must be "+wire.PlatformPort25Blocked+" or "+wire.PlatformServiceAddress)
		}
		if k.PolicyIndex != nil && k.PolicyIndex.Text() != "" {
			idx, err := integer(field+"PolicyIndex", k.PolicyIndex)
			if err != nil {
				return nil, err
			}
			if idx < 0 || idx > 1<<20 {
				return nil, outOfRange(field+"PolicyIndex", k.PolicyIndex.Text(), "must be 0 or more")
			}
			hc.PolicyIndex = int(idx)
		} else if hc.GroupID != "" {
			return nil, missing(field + "PolicyIndex")
		}
		for _, n := range []struct {
			name string
			v    *wire.Int
			to   *int64
		}{{"Packets", k.Packets, &hc.Packets}, {"Bytes", k.Bytes, &hc.Bytes}} {
			if n.v == nil || n.v.Text() == "" {
				return nil, missing(field + n.name)
			}
			if *n.to, err = integer(field+n.name, n.v); err != nil {
				return nil, err
			}
		}
		in.Counters = append(in.Counters, hc)
	}
	return nil, h.svc.ReportHostStatus(c.ctx, c.caller, in)
}

// waitApplied reads a write request's WaitApplied and what the write
// names (groups, instances, templates), or returns nil when the request
// does not ask to wait.
func waitApplied(body []byte) (*service.WaitAppliedInput, error) {
	if !bytes.Contains(body, []byte(`"WaitApplied"`)) {
		return nil, nil
	}
	var w struct {
		WaitApplied *wire.Int `json:"WaitApplied"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	if w.WaitApplied == nil || w.WaitApplied.Text() == "" {
		return nil, nil
	}
	secs, err := integer("WaitApplied", w.WaitApplied)
	if err != nil {
		return nil, err
	}
	if secs < 0 || secs > int64(service.MaxWaitApplied/time.Second) {
		return nil, outOfRange("WaitApplied", w.WaitApplied.Text(), fmt.Sprintf("must be between 0 and %d", int(service.MaxWaitApplied/time.Second)))
	}
	// What the write names, as the write actions spell it; a field of
	// another shape in some request names nothing.
	var ids struct {
		SecurityGroupId        *wire.String  `json:"SecurityGroupId"`
		SecurityGroupIds       []wire.String `json:"SecurityGroupIds"`
		SecurityGroups         []wire.String `json:"SecurityGroups"`
		InstanceIds            []wire.String `json:"InstanceIds"`
		AddressTemplateId      *wire.String  `json:"AddressTemplateId"`
		AddressTemplateGroupId *wire.String  `json:"AddressTemplateGroupId"`
		ServiceTemplateId      *wire.String  `json:"ServiceTemplateId"`
		ServiceTemplateGroupId *wire.String  `json:"ServiceTemplateGroupId"`
	}
	_ = json.Unmarshal(body, &ids)
	in := &service.WaitAppliedInput{Timeout: time.Duration(secs) * time.Second}
	add := func(list *[]string, vs ...*wire.String) {
		for _, v := range vs {
			if t := strings.TrimSpace(str(v)); t != "" {
				*list = append(*list, t)
			}
		}
	}
	add(&in.GroupIDs, ids.SecurityGroupId)
	for _, l := range [][]wire.String{ids.SecurityGroupIds, ids.SecurityGroups} {
		for i := range l {
			add(&in.GroupIDs, &l[i])
		}
	}
	for i := range ids.InstanceIds {
		add(&in.InstanceIDs, &ids.InstanceIds[i])
	}
	add(&in.TemplateIDs, ids.AddressTemplateId, ids.AddressTemplateGroupId, ids.ServiceTemplateId, ids.ServiceTemplateGroupId)
	return in, nil
}

func (h *handler) describeSecurityGroupPropagation(c *call, req *wire.DescribeSecurityGroupPropagationRequest) (any, error) {
	ids, err := requireList("SecurityGroupIds", req.SecurityGroupIds)
	if err != nil {
		return nil, err
	}
	ps, err := h.svc.DescribeSecurityGroupPropagation(c.ctx, c.caller, ids)
	if err != nil {
		return nil, err
	}
	out := wire.DescribeSecurityGroupPropagationResponse{PropagationSet: make([]wire.SecurityGroupPropagation, len(ps))}
	for i, p := range ps {
		out.PropagationSet[i] = propagationOut(p)
	}
	return out, nil
}

func propagationOut(p service.GroupPropagation) wire.SecurityGroupPropagation {
	w := wire.SecurityGroupPropagation{SecurityGroupId: p.SecurityGroupID, Revision: p.Revision,
		AffectedHosts: uint64(len(p.AffectedHosts)), AppliedHosts: uint64(len(p.AffectedHosts) - len(p.Laggards)), Laggards: []wire.HostLag{}}
	for _, l := range p.Laggards {
		hl := wire.HostLag{HostId: l.HostID}
		if l.Reported {
			rev := l.AppliedRevision
			hl.AppliedRevision = &rev
		}
		w.Laggards = append(w.Laggards, hl)
	}
	return w
}

func (h *handler) describeSecurityGroupPolicyStatistics(c *call, req *wire.DescribeSecurityGroupPolicyStatisticsRequest) (any, error) {
	id, err := requireString("SecurityGroupId", req.SecurityGroupId)
	if err != nil {
		return nil, err
	}
	id = strings.TrimSpace(id)
	stats, err := h.svc.DescribeSecurityGroupPolicyStatistics(c.ctx, c.caller, id)
	if err != nil {
		return nil, err
	}
	out := wire.DescribeSecurityGroupPolicyStatisticsResponse{SecurityGroupId: id, StatisticSet: make([]wire.PolicyStatistic, len(stats))}
	for i, s := range stats {
		out.StatisticSet[i] = wire.PolicyStatistic{Direction: s.Direction.String(), PolicyIndex: s.PolicyIndex, Packets: s.Packets, Bytes: s.Bytes,
			Hosts: uint64(s.Hosts), Since: vpcTime(s.Since), Until: vpcTime(s.Until)}
	}
	return out, nil
}

// flushConnections reads a write request's FlushConnections: true asks the
// agents to cut the existing connections that the write's rules no longer
// admit.
func flushConnections(body []byte) (bool, error) {
	if !bytes.Contains(body, []byte(`"FlushConnections"`)) {
		return false, nil
	}
	var f struct {
		FlushConnections *wire.Bool `json:"FlushConnections"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return false, err
	}
	if f.FlushConnections == nil {
		return false, nil
	}
	return boolean("FlushConnections", f.FlushConnections)
}

// maxConfirmWithin bounds a write's ConfirmWithin.
const maxConfirmWithin = 24 * time.Hour

// writeGuard reads a write request's Force (true writes a change that
// would cut the caller's own login path) and ConfirmWithin (seconds, 1 to
// 86400: the policy write is reverted unless confirmed in time).
func writeGuard(body []byte) (service.WriteGuard, error) {
	var g service.WriteGuard
	if !bytes.Contains(body, []byte(`"Force"`)) && !bytes.Contains(body, []byte(`"ConfirmWithin"`)) {
		return g, nil
	}
	var f struct {
		Force         *wire.Bool `json:"Force"`
		ConfirmWithin *wire.Int  `json:"ConfirmWithin"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		return g, err
	}
	if f.Force != nil {
		force, err := boolean("Force", f.Force)
		if err != nil {
			return g, err
		}
		g.Force = force
	}
	if f.ConfirmWithin != nil && f.ConfirmWithin.Text() != "" {
		n, err := integer("ConfirmWithin", f.ConfirmWithin)
		if err != nil {
			return g, err
		}
		if n < 1 || time.Duration(n)*time.Second > maxConfirmWithin {
			return g, outOfRange("ConfirmWithin", f.ConfirmWithin.Text(), "must be between 1 and 86400 seconds")
		}
		g.ConfirmWithin = time.Duration(n) * time.Second
	}
	return g, nil
}
