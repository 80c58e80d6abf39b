// Package sdktest drives Palisade's API end to end with the official
// Tencent Cloud Go SDK: a real server over a real SQLite file, on loopback.
// It holds tests and benchmarks only.
package sdktest
