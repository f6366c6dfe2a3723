package detectors

// CountExcept is Count without the values whose key skip reports true (for
// value allowlists such as the company's own phone number). It does not
// change the tally. A saturated count stays saturated: the values beyond
// MaxDistinct are unknown, so they are assumed not to be allowlisted.
func (t *Tally) CountExcept(detector string, skip func(key string) bool) (n int, saturated bool) {
	d := t.byDet[detector]
	if d == nil {
		return 0, false
	}
	if skip == nil {
		return len(d.vals), d.saturated
	}
	for _, v := range d.vals {
		if !skip(v.key) {
			n++
		}
	}
	return n, d.saturated
}
