package graphsim

import (
	"encoding/binary"
	"encoding/hex"
	"math"
)

// Every generated value is derived by hashing the tenant seed with the
// coordinates of the thing being generated, so any item can be produced on
// demand, in any order, without generating its neighbours.

// mix64 is the splitmix64 finaliser: a fast bijective avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashOf folds parts into a 64-bit hash rooted at seed.
func hashOf(seed uint64, parts ...uint64) uint64 {
	h := mix64(seed ^ 0x9e3779b97f4a7c15)
	for _, p := range parts {
		h = mix64(h ^ mix64(p+0x632be59bd9b4e019))
	}
	return h
}

// Domain tags keep hashes for different purposes independent.
const (
	tagUser uint64 = iota + 1
	tagGroup
	tagSite
	tagMailLayout
	tagMessage
	tagAttachment
	tagContactLayout
	tagContact
	tagCalendarLayout
	tagEvent
	tagDriveLayout
	tagDriveFile
	tagContent
	tagChurn
	tagFault
	tagChannel
	tagSpecial
	tagToken
	tagTransaction
	tagZone
	tagList
)

// rng is a splitmix64 stream: cheap to create per item.
type rng struct{ s uint64 }

func newRNG(seed uint64, parts ...uint64) *rng { return &rng{s: hashOf(seed, parts...)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a value in [0, n); n <= 0 yields 0.
func (r *rng) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return int(r.next() % uint64(n))
}

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// normal returns a standard normal deviate (Box-Muller).
func (r *rng) normal() float64 {
	u1 := r.float()
	if u1 < 1e-300 {
		u1 = 1e-300
	}
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*r.float())
}

// logNormal returns a log-normal value with the given median.
func (r *rng) logNormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.normal())
}

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// guidFrom formats 128 bits from two hashes as a version-4 style GUID.
func guidFrom(a, b uint64) string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], a)
	binary.BigEndian.PutUint64(raw[8:], b)
	raw[6] = raw[6]&0x0f | 0x40 // version 4
	raw[8] = raw[8]&0x3f | 0x80 // RFC 4122 variant
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], raw[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], raw[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], raw[8:10])
	out[23] = '-'
	hex.Encode(out[24:], raw[10:])
	return string(out[:])
}

// guid derives a GUID from a seed and parts.
func guid(seed uint64, parts ...uint64) string {
	h := hashOf(seed, parts...)
	return guidFrom(h, mix64(h^0xa5a5a5a5a5a5a5a5))
}

// split divides total into len(weights) non-negative integers proportional
// to weights that sum exactly to total (largest-remainder method).
func split(total int, weights []float64) []int {
	out := make([]int, len(weights))
	if total <= 0 || len(weights) == 0 {
		return out
	}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 {
		out[0] = total
		return out
	}
	rems := make([]float64, len(weights))
	assigned := 0
	for i, w := range weights {
		exact := float64(total) * w / sum
		out[i] = int(exact)
		assigned += out[i]
		rems[i] = exact - float64(out[i])
	}
	// Fewer than len(weights) units remain; give them to the largest
	// fractions, ties to the lower index so the result is deterministic.
	for ; assigned < total; assigned++ {
		best := 0
		for j := range rems {
			if rems[j] > rems[best] {
				best = j
			}
		}
		out[best]++
		rems[best] = -1
	}
	return out
}
