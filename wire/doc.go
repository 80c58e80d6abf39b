// Package wire holds the request and response types of every action
// Palisade serves, with the exact JSON the server reads and writes: the vpc
// (2017-03-12) security-group, address-template and service-template
// actions, the cvm (2017-03-12) instance actions, the tag (2018-08-13)
// actions on security groups and Palisade's own actions.
//
// The server decodes requests into these types and encodes responses from
// them; the client in package client encodes requests and decodes responses
// with the same types, so the two cannot drift apart.
//
// Requests are lenient. Their scalar fields are the flexible types of this
// package ([String], [Int], [IntString], [Bool]): each accepts a JSON string,
// number or boolean and keeps the text it was given, and each encodes
// exactly as the official Tencent Cloud SDK sends the field. A field
// declared as a pointer is absent when nil, so absent differs from empty;
// request fields are tagged omitzero, so an absent field (a nil pointer or
// a nil list) is left out when encoding while an empty list is sent as [].
//
// Responses are strict: they use plain Go types whose JSON is exactly what
// the official SDK decodes (it does not coerce numbers and strings). In vpc
// actions Version, ProjectId, Offset and Limit are JSON strings while
// PolicyIndex and counts are numbers; in cvm actions Offset, Limit and
// Placement.ProjectId are integers. Every response carries the RequestId
// the server assigned; the server leaves the field empty and the envelope
// adds it.
//
// This package imports nothing of Palisade's internals.
package wire
