// Package nodetest drives Palisade with the official Tencent Cloud Node.js
// SDK (npm tencentcloud-sdk-nodejs, pinned in package-lock.json), pointed
// at 127.0.0.1:PORT over http:// as the README says. Its test needs node
// and `npm ci` in this directory, so it runs only with the nodecompat build
// tag:
//
//	(cd internal/api/nodetest && npm ci)
//	go test -tags nodecompat ./internal/api/nodetest/
package nodetest
