package detectors

// Context is per-part state shared by the detectors of one Scan. The engine
// calls advance after every detector has seen a chunk, so a detector sees the
// state as it was before the chunk.
type Context struct {
	// Lines is the number of lines already scanned in this part.
	Lines int
}

func (c *Context) reset() { *c = Context{} }

func (c *Context) advance(text []byte) {
	for _, b := range text {
		if b == '\n' {
			c.Lines++
		}
	}
}
