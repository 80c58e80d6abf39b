package api

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// queryToJSON turns the GET form of a request into the JSON body the POST
// form would carry. The SDK flattens nested values into keys such as
// "SecurityGroupIds.0" and "SecurityGroupPolicySet.Ingress.0.Port"; a level
// whose keys are all integers becomes an array in index order. Every leaf is
// a JSON string, which the flexible scalar types accept for any field.
func queryToJSON(q url.Values) ([]byte, error) {
	root := map[string]any{}
	for key, vals := range q {
		if len(vals) == 0 {
			continue
		}
		parts := strings.Split(key, ".")
		node := root
		for i, p := range parts {
			if p == "" {
				return nil, fmt.Errorf("query key %q has an empty part", key)
			}
			if i == len(parts)-1 {
				if _, taken := node[p].(map[string]any); taken {
					return nil, fmt.Errorf("query key %q is both a value and a structure", key)
				}
				node[p] = vals[len(vals)-1]
				break
			}
			child, ok := node[p].(map[string]any)
			if !ok {
				if _, isLeaf := node[p]; isLeaf {
					return nil, fmt.Errorf("query key %q is both a value and a structure", key)
				}
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
	}
	return json.Marshal(arrays(root))
}

// arrays replaces every map whose keys are all decimal integers by a slice
// ordered by those integers (gaps are closed).
func arrays(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, c := range m {
		m[k] = arrays(c)
	}
	if len(m) == 0 {
		return m
	}
	idx := make([]int, 0, len(m))
	byIdx := make(map[int]any, len(m))
	for k, c := range m {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 {
			return m
		}
		idx = append(idx, n)
		byIdx[n] = c
	}
	sort.Ints(idx)
	out := make([]any, len(idx))
	for i, n := range idx {
		out[i] = byIdx[n]
	}
	return out
}
