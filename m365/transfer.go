package m365

import (
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"
)

// TransferDecoded reads a MIME part's body decoded from its
// Content-Transfer-Encoding (base64 or quoted-printable; anything else is
// read as it is).
func TransferDecoded(enc string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Lines{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Lines drops what may separate base64 lines: the decoder skips CR
// and LF itself, not the spaces and tabs some mailers leave.
type base64Lines struct{ r io.Reader }

func (b *base64Lines) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	k := 0
	for _, c := range p[:n] {
		if c != ' ' && c != '\t' {
			p[k] = c
			k++
		}
	}
	return k, err
}
