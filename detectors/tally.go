package detectors

import "sort"

// MaxDistinct bounds the distinct values a Tally remembers per detector. A
// dense roster holds far more values than any threshold; past this bound the
// count is reported as saturated ("at least MaxDistinct") and memory stays
// flat however large the part is.
const MaxDistinct = 4096

// Tally counts distinct values per detector. The zero value is not ready:
// use NewTally. A Tally is not safe for concurrent use.
type Tally struct {
	byDet map[string]*detTally
}

type detTally struct {
	keys      map[string]int // key -> index into vals
	vals      []Value
	saturated bool
	// seen is a one-hash Bloom filter of the keys, kept once there are
	// bloomMin of them: a dense roster repeats the look-up of keys that are
	// not there (past MaxDistinct) for every value, and a bit test is far
	// cheaper than a miss in a map of thousands of strings.
	seen *[bloomWords]uint64
}

const (
	bloomWords = 1024 // 64 Ki bits: about 6% false hits at MaxDistinct keys
	bloomMin   = 256
)

func bloomHash[K string | []byte](key K) uint32 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * 1099511628211
	}
	return uint32(h>>32) ^ uint32(h)
}

// put indexes key as vals[i].
func (d *detTally) put(key string, i int) {
	d.keys[key] = i
	if d.seen != nil {
		h := bloomHash(key) % (bloomWords * 64)
		d.seen[h/64] |= 1 << (h % 64)
	} else if len(d.keys) >= bloomMin {
		d.seen = new([bloomWords]uint64)
		for k := range d.keys {
			h := bloomHash(k) % (bloomWords * 64)
			d.seen[h/64] |= 1 << (h % 64)
		}
	}
}

// lookupBytes is lookup without converting key to a string.
func (d *detTally) lookupBytes(key []byte) (int, bool) {
	if d.seen != nil {
		if h := bloomHash(key) % (bloomWords * 64); d.seen[h/64]&(1<<(h%64)) == 0 {
			return 0, false
		}
	}
	i, ok := d.keys[string(key)]
	return i, ok
}

// lookup returns the index of key in vals.
func (d *detTally) lookup(key string) (int, bool) {
	if d.seen != nil {
		if h := bloomHash(key) % (bloomWords * 64); d.seen[h/64]&(1<<(h%64)) == 0 {
			return 0, false
		}
	}
	i, ok := d.keys[key]
	return i, ok
}

// Value is one distinct value as it may be shown: masked, never in clear.
type Value struct {
	Masked     string
	Confidence Confidence
	Path       string // where it was first seen, e.g. "attachment[2]/名簿.zip/list.csv"
	key        string
}

// NewTally returns an empty tally.
func NewTally() *Tally { return &Tally{byDet: map[string]*detTally{}} }

// Add counts m, found in the part at path.
func (t *Tally) Add(m Match, path string) {
	d := t.det(m.Detector)
	if i, ok := d.lookup(m.Key); ok {
		if m.Confidence > d.vals[i].Confidence {
			d.vals[i].Confidence = m.Confidence
		}
		return
	}
	if len(d.vals) >= MaxDistinct {
		d.saturated = true
		return
	}
	d.put(m.Key, len(d.vals))
	d.vals = append(d.vals, Value{Masked: m.Masked, Confidence: m.Confidence, Path: path, key: m.Key})
}

// known reports whether key is already counted for detector (raising its
// confidence to conf) or the detector's count is saturated: then a match
// need not be built. It lets the engine skip the allocations of repeated
// values.
func (t *Tally) known(detector string, key []byte, conf Confidence) bool {
	d := t.byDet[detector]
	if d == nil {
		return false
	}
	if i, ok := d.lookupBytes(key); ok {
		if conf > d.vals[i].Confidence {
			d.vals[i].Confidence = conf
		}
		return true
	}
	if len(d.vals) >= MaxDistinct {
		d.saturated = true
		return true
	}
	return false
}

func (t *Tally) det(id string) *detTally {
	d := t.byDet[id]
	if d == nil {
		d = &detTally{keys: map[string]int{}}
		t.byDet[id] = d
	}
	return d
}

// Merge adds every value of o to t (union by normalised value).
func (t *Tally) Merge(o *Tally) {
	if o == nil {
		return
	}
	for id, od := range o.byDet {
		d := t.det(id)
		d.saturated = d.saturated || od.saturated
		for _, v := range od.vals {
			if i, ok := d.lookup(v.key); ok {
				if v.Confidence > d.vals[i].Confidence {
					d.vals[i].Confidence = v.Confidence
				}
				continue
			}
			if len(d.vals) >= MaxDistinct {
				d.saturated = true
				break
			}
			d.put(v.key, len(d.vals))
			d.vals = append(d.vals, v)
		}
	}
}

// Remove keeps only the values of detector for whose key keep reports true
// (for value allowlists such as the company's own phone number).
func (t *Tally) Remove(detector string, keep func(key string) bool) {
	d := t.byDet[detector]
	if d == nil {
		return
	}
	vals := d.vals[:0]
	d.keys, d.seen = map[string]int{}, nil
	for _, v := range d.vals {
		if keep(v.key) {
			d.put(v.key, len(vals))
			vals = append(vals, v)
		}
	}
	d.vals = vals
}

// Count is the number of distinct values of detector, and whether the count
// hit MaxDistinct (then the true count is at least that).
func (t *Tally) Count(detector string) (n int, saturated bool) {
	d := t.byDet[detector]
	if d == nil {
		return 0, false
	}
	return len(d.vals), d.saturated
}

// Counts returns the distinct-value count of every detector with at least one value.
func (t *Tally) Counts() map[string]int {
	out := make(map[string]int, len(t.byDet))
	for id, d := range t.byDet {
		if len(d.vals) > 0 {
			out[id] = len(d.vals)
		}
	}
	return out
}

// Detectors lists the IDs with at least one value, sorted.
func (t *Tally) Detectors() []string {
	var ids []string
	for id, d := range t.byDet {
		if len(d.vals) > 0 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Samples returns up to n values of detector, in the order first seen.
func (t *Tally) Samples(detector string, n int) []Value {
	d := t.byDet[detector]
	if d == nil {
		return nil
	}
	if n > len(d.vals) || n < 0 {
		n = len(d.vals)
	}
	return append([]Value(nil), d.vals[:n]...)
}

// Empty reports whether nothing was found.
func (t *Tally) Empty() bool {
	for _, d := range t.byDet {
		if len(d.vals) > 0 {
			return false
		}
	}
	return true
}
