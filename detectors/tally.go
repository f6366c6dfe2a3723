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
	// builtin holds the entries of byDet for the built-in detectors (by
	// builtinSlot), which the engine looks up for every value it finds.
	builtin [5]*detTally
}

// builtinSlot returns the index into Tally.builtin of a built-in detector
// ID, or -1.
func builtinSlot(id string) int {
	switch id {
	case MyNumber:
		return 0
	case CorporateNumber:
		return 1
	case Phone:
		return 2
	case CreditCard:
		return 3
	case Address:
		return 4
	}
	return -1
}

// get returns the values of detector, or nil.
func (t *Tally) get(detector string) *detTally {
	if i := builtinSlot(detector); i >= 0 {
		return t.builtin[i]
	}
	return t.byDet[detector]
}

type detTally struct {
	vals      []Value
	saturated bool
	// index is an open-addressing hash table of the keys of vals: each
	// slot holds 0 (empty) or the value's index + 1 in its low idxBits and
	// bits of the key's hash above them, so that a probe compares a key
	// only when the hash bits agree. A dense roster looks up every value
	// it finds; most of those are misses (past MaxDistinct), which cost
	// one hash and one or two slot reads.
	index []uint32
	// byConf counts vals by confidence (clamped to High), so that full
	// needs no look-up.
	byConf [High + 1]int
}

func confSlot(c Confidence) int { return int(min(c, High)) }

// setConf changes the confidence of vals[i].
func (d *detTally) setConf(i int, c Confidence) {
	d.byConf[confSlot(d.vals[i].Confidence)]--
	d.vals[i].Confidence = c
	d.byConf[confSlot(c)]++
}

// appendVal adds v as a new value; h is keyHash(v.key).
func (d *detTally) appendVal(v Value, h uint32) {
	d.put(h, len(d.vals))
	d.vals = append(d.vals, v)
	d.byConf[confSlot(v.Confidence)]++
}

// full reports whether a value of confidence conf can no longer change d:
// it holds MaxDistinct values, has dropped others, and none of its values
// is below conf. Then known is true for any key, and a Scan may skip the
// work of finding values of this detector.
func (d *detTally) full(conf Confidence) bool {
	if !d.saturated || len(d.vals) < MaxDistinct {
		return false
	}
	for c := range confSlot(conf) {
		if d.byConf[c] != 0 {
			return false
		}
	}
	return true
}

const (
	// bloomMin is the number of keys past which the index and vals are
	// sized for MaxDistinct at once: a part with this many values is
	// likely to have many more.
	bloomMin = 256
	idxBits  = 13 // MaxDistinct+1 fits
	idxMask  = 1<<idxBits - 1
)

// keyHash hashes a key for the index, eight bytes at a time.
func keyHash[K string | []byte](key K) uint32 {
	const m1, m2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9
	h := uint64(len(key)) * m1
	i := 0
	for ; i+8 <= len(key); i += 8 {
		w := uint64(key[i]) | uint64(key[i+1])<<8 | uint64(key[i+2])<<16 | uint64(key[i+3])<<24 |
			uint64(key[i+4])<<32 | uint64(key[i+5])<<40 | uint64(key[i+6])<<48 | uint64(key[i+7])<<56
		h = (h ^ w) * m2
		h ^= h >> 31
	}
	for ; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * m1
	}
	h ^= h >> 29
	h *= m2
	h ^= h >> 32
	return uint32(h)
}

// put indexes the key of hash h as vals[i] (it is not in the index yet).
func (d *detTally) put(h uint32, i int) {
	if n := len(d.vals) + 1; 2*n > len(d.index) {
		size := 16
		for size < 2*n {
			size *= 2
		}
		if n >= bloomMin {
			size = max(size, 2*MaxDistinct)
			if cap(d.vals) < MaxDistinct {
				d.vals = append(make([]Value, 0, MaxDistinct), d.vals...)
			}
		}
		d.index = make([]uint32, size)
		for j := range d.vals {
			if j != i {
				d.insert(keyHash(d.vals[j].key), j)
			}
		}
	}
	d.insert(h, i)
}

// insert places index i with hash h in the index.
func (d *detTally) insert(h uint32, i int) {
	mask := uint32(len(d.index) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		if d.index[p] == 0 {
			d.index[p] = h&^idxMask | uint32(i+1)
			return
		}
	}
}

// lookupBytes is lookup without converting key to a string.
func (d *detTally) lookupBytes(key []byte) (int, bool) {
	if len(d.index) == 0 {
		return 0, false
	}
	h := keyHash(key)
	mask := uint32(len(d.index) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		e := d.index[p]
		if e == 0 {
			return 0, false
		}
		if e&^idxMask == h&^idxMask {
			if i := int(e&idxMask) - 1; d.vals[i].key == string(key) {
				return i, true
			}
		}
	}
}

// lookup returns the index of key in vals, and the key's hash.
func (d *detTally) lookup(key string) (int, bool, uint32) {
	h := keyHash(key)
	if len(d.index) == 0 {
		return 0, false, h
	}
	mask := uint32(len(d.index) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		e := d.index[p]
		if e == 0 {
			return 0, false, h
		}
		if e&^idxMask == h&^idxMask {
			if i := int(e&idxMask) - 1; d.vals[i].key == key {
				return i, true, h
			}
		}
	}
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
	if d.full(m.Confidence) {
		return
	}
	i, ok, h := d.lookup(m.Key)
	if ok {
		if m.Confidence > d.vals[i].Confidence {
			d.setConf(i, m.Confidence)
		}
		return
	}
	if len(d.vals) >= MaxDistinct {
		d.saturated = true
		return
	}
	d.appendVal(Value{Masked: m.Masked, Confidence: m.Confidence, Path: path, key: m.Key}, h)
}

// known reports whether key is already counted for detector (raising its
// confidence to conf) or the detector's count is saturated: then a match
// need not be built. It lets the engine skip the allocations of repeated
// values.
func (t *Tally) known(detector string, key []byte, conf Confidence) bool {
	d := t.get(detector)
	if d == nil {
		return false
	}
	if d.full(conf) {
		return true
	}
	if i, ok := d.lookupBytes(key); ok {
		if conf > d.vals[i].Confidence {
			d.setConf(i, conf)
		}
		return true
	}
	if len(d.vals) >= MaxDistinct {
		d.saturated = true
		return true
	}
	return false
}

// full reports whether no value of detector can change the tally any more
// (see detTally.full): the values a Scan would find need not be looked for.
func (t *Tally) full(detector string) bool {
	d := t.get(detector)
	return d != nil && d.full(High)
}

func (t *Tally) det(id string) *detTally {
	d := t.get(id)
	if d == nil {
		d = &detTally{}
		t.byDet[id] = d
		if i := builtinSlot(id); i >= 0 {
			t.builtin[i] = d
		}
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
			i, ok, h := d.lookup(v.key)
			if ok {
				if v.Confidence > d.vals[i].Confidence {
					d.setConf(i, v.Confidence)
				}
				continue
			}
			if len(d.vals) >= MaxDistinct {
				d.saturated = true
				break
			}
			d.appendVal(v, h)
		}
	}
}

// Remove keeps only the values of detector for whose key keep reports true
// (for value allowlists such as the company's own phone number).
func (t *Tally) Remove(detector string, keep func(key string) bool) {
	d := t.get(detector)
	if d == nil {
		return
	}
	old := d.vals
	d.vals, d.index, d.byConf = nil, nil, [High + 1]int{}
	for _, v := range old {
		if keep(v.key) {
			d.appendVal(v, keyHash(v.key))
		}
	}
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
