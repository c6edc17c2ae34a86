package m365

import "time"

// MaxRetryAfter is the longest pause a Graph answer may impose before the
// next attempt, whatever its Retry-After says. Microsoft's throttling
// guidance (https://learn.microsoft.com/graph/throttling) asks clients to
// wait the Retry-After delay and, when still throttled, to wait the new
// delay the next 429 names; SharePoint's longest delays are reported at
// about 300 s. Retrying after at most five minutes therefore costs at most
// one more throttled request, while a broken or hostile answer such as
// `Retry-After: 86400` cannot park a worker, or through the drive budget
// the whole fleet, for a day.
const MaxRetryAfter = 5 * time.Minute

// CapRetryAfter bounds a pause Graph asked for to [0, MaxRetryAfter].
func CapRetryAfter(d time.Duration) time.Duration {
	return min(max(d, 0), MaxRetryAfter)
}
