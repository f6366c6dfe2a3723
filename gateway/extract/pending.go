package extract

// pending is what a streaming decoder (quoted-printable, form data,
// format=flowed, HTML, JSON) has produced and not yet handed out, and the error
// that ends its output. The decoder embeds it, implements producer, and
// reads with read.
type pending struct {
	out []byte
	err error
}

// A producer makes more output in its pending out, or sets its err.
type producer interface{ produce() }

// read hands out pending bytes, having pr produce more while there are
// none and no error.
func (d *pending) read(p []byte, pr producer) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		pr.produce()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}
