package sdktest

import (
	"time"
)

// nextSecond waits for the next second of the clock. TC3-HMAC-SHA256 has
// no nonce: a request with the same parameters as another, signed by the
// same credential for the same service in the same second, carries the
// same signature, and the server refuses it as a replay when either is a
// write or their actions differ. A client that means to send such a
// request again waits for the next second, as the tests here do.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond).Sub(now))
}
