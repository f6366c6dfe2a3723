package extract

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestHTMLText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"entities and blocks", "<div>A&amp;B&lt;C&gt; &#x5c71;&#30000;</div><p>next</p>", "A&B<C> 山田\nnext\n"},
		{"script and style dropped", "<style>.x{}</style>a<script>if (a<b) { x='123456789018' }</script>b", "ab\n"},
		{"whitespace collapsed", "  a \n\t b  <br>  c  ", "a b\nc\n"},
		{"pre kept", "<pre>a\n  b</pre>c", "a\n  b\nc\n"},
		{"table rows as tsv", "<table><tr><td>1</td><td> 2 </td><td></td><td>4</td></tr><tr><th>x</th></tr></table>", "1\t2\t\t4\nx\n"},
		{"cells with blocks", "<table><tr><td><div>a</div><div>b</div></td><td>c<br>d</td></tr></table>", "a b\tc d\n"},
		{"no tr", "<table><td>a</td><td>b</td></table>", "a\tb\n"},
		{"comment kept", "a<!-- hidden 123456789018 -->b", "a\nhidden 123456789018\nb\n"},
		{"unclosed", "<p>a<table><tr><td>b", "a\nb\n"},
		{"nbsp", "03&nbsp;1234\u00a05678", "03 1234 5678\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := io.ReadAll(htmlText(strings.NewReader(tc.in)))
			if err != nil || string(b) != tc.want {
				t.Errorf("got %q (%v), want %q", b, err, tc.want)
			}
			b, _ = io.ReadAll(iotest.OneByteReader(htmlText(iotest.OneByteReader(strings.NewReader(tc.in)))))
			if string(b) != tc.want {
				t.Errorf("one byte at a time: got %q", b)
			}
		})
	}
}
