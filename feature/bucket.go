package feature

import (
	"github.com/cespare/xxhash/v2"
)

// Buckets is the number of buckets a targeting key can fall into: one per
// 0.001 %, the unit of split weights.
const Buckets = TotalWeight

// Bucket places a targeting key in one of Buckets buckets, in [0, 100000), for
// one flag. It is the only bucketing function: every split, in every process
// and on every platform, uses it (see docs/adr/0001-flag-bucketing.md).
//
// It is xxHash64 (seed 0) of the UTF-8 bytes flagKey + "." + salt + "." +
// targetingKey, modulo 100000. The flag key makes buckets independent across
// flags; the salt lets an operator reshuffle one flag on purpose.
func Bucket(flagKey, salt, targetingKey string) uint32 {
	return bucketOf(bucketPrefix(flagKey, salt), targetingKey)
}

// bucketPrefix is the part of the hashed string that is fixed per flag; a
// compiled flag keeps it so that evaluation does not concatenate.
func bucketPrefix(flagKey, salt string) string {
	return flagKey + "." + salt + "."
}

// bucketOf hashes prefix and key as one string. Short inputs (nearly all) are
// joined in a stack buffer, the fastest way to hash them without allocating;
// longer ones stream through a digest, which gives the same hash.
func bucketOf(prefix, targetingKey string) uint32 {
	if len(prefix)+len(targetingKey) <= 64 {
		// Most flag keys and targeting keys: a small buffer is cheaper to
		// clear than the large one.
		var buf [64]byte
		n := copy(buf[:], prefix)
		n += copy(buf[n:], targetingKey)
		return uint32(xxhash.Sum64(buf[:n]) % Buckets)
	}
	var buf [192]byte
	if len(prefix)+len(targetingKey) <= len(buf) {
		n := copy(buf[:], prefix)
		n += copy(buf[n:], targetingKey)
		return uint32(xxhash.Sum64(buf[:n]) % Buckets)
	}
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(prefix)
	_, _ = d.WriteString(targetingKey)
	return uint32(d.Sum64() % Buckets)
}

// bound is one variant's range of a compiled split: buckets below upper and at
// or above the previous bound's upper are served v.
type bound struct {
	upper uint32
	v     variant
}

// compileSplit turns weights into cumulative upper bounds, in the order of the
// (already sorted) split, skipping zero weights since they own no bucket.
func compileSplit(split []Weighted, variants map[string]variant) []bound {
	bounds := make([]bound, 0, len(split))
	var upper uint32
	for _, w := range split {
		if w.Weight <= 0 {
			continue
		}
		upper += uint32(w.Weight)
		bounds = append(bounds, bound{upper: upper, v: variants[w.Variant]})
	}
	return bounds
}

// pick returns the variant whose range holds the bucket.
func pick(bounds []bound, bucket uint32) variant {
	for i := range bounds {
		if bucket < bounds[i].upper {
			return bounds[i].v
		}
	}
	return bounds[len(bounds)-1].v // unreachable when weights sum to Buckets
}
