package sinopac

import (
	"bytes"
	"html"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What a GatewayError may show of a reply that is not a sealed envelope:
// its media type and an excerpt that carries neither the client's secrets
// nor the numbers and tokens a reply holds.

// excerptLen bounds GatewayError.Excerpt, in bytes.
const excerptLen = 256

// mediaType is the reply's Content-Type without parameters, or "" when it
// is missing or malformed.
func mediaType(hdr http.Header) string {
	mt, _, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	if err != nil || len(mt) > 100 {
		return ""
	}
	return mt
}

// excerpt squeezes the start of body into one printable line of at most
// excerptLen bytes; of an HTML page (a proxy's or gateway's error page)
// only the title is kept. The client's secrets are cut out in any ASCII
// letter case, and every run of minDigitRun or more digits (card and
// account numbers, also when split by spaces, dashes or dots) and every
// word of minTokenLen or more letters and digits holding a digit (tokens,
// keys, UUIDs) is masked with '#'. All this is done over a window long
// enough to hold any secret that starts inside the excerpt before the line
// is cut, so that nothing cut in half at the end can leave a piece behind.
func (c *Client) excerpt(hdr http.Header, body []byte) string {
	if isHTML(hdr, body) {
		body = htmlTitle(body)
	}
	secrets := [...]string{squeeze([]byte(c.cred.hashID), len(c.cred.hashID)), squeeze([]byte(c.cred.keyID), len(c.cred.keyID))}
	window := excerptLen
	for _, s := range secrets {
		window += len(s)
	}
	line := squeeze(body, window)
	more := len(line) >= window // the body may go on past the window
	for _, secret := range secrets {
		line = redactFold(line, secret)
	}
	masked := []byte(line)
	maskNumbers(masked, more)
	line = string(masked)
	if len(line) > excerptLen {
		cut := excerptLen
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		line = line[:cut]
	}
	return strings.TrimSpace(line)
}

// squeeze turns up to max bytes' worth of the start of b into one line:
// control characters, invalid UTF-8 and runs of spaces become one space.
func squeeze(b []byte, max int) string {
	var sb strings.Builder
	space := true // no leading space
	for len(b) > 0 && sb.Len() < max {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || unicode.IsSpace(r) {
			if !space {
				sb.WriteByte(' ')
			}
			space = true
			continue
		}
		sb.WriteRune(r)
		space = false
	}
	return sb.String()
}

// redactFold replaces every occurrence of secret in s, in any ASCII letter
// case, with [redacted]. ASCII case folding keeps byte offsets, so the
// match found in the folded copy is cut from s itself.
func redactFold(s, secret string) string {
	if secret == "" {
		return s
	}
	fs, fsecret := asciiLower(s), asciiLower(secret)
	var b strings.Builder
	for {
		i := strings.Index(fs, fsecret)
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(redacted)
		s, fs = s[i+len(secret):], fs[i+len(secret):]
	}
	b.WriteString(s)
	return b.String()
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// What excerpt masks: numbers long enough to be an account or card number
// (bank codes such as E0401 and HTTP statuses stay readable), and words
// long enough to be a token.
const (
	minDigitRun = 5
	minTokenLen = 16
)

// maskNumbers overwrites, in place, the digits of every run of at least
// minDigitRun digits (single spaces, dashes or dots between digits belong
// to the run) and every word of at least minTokenLen bytes of [0-9A-Za-z_-]
// that holds a digit. With open set, b is cut from a longer text, so a run
// or word reaching its end is masked whatever its length.
func maskNumbers(b []byte, open bool) {
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	isWord := func(c byte) bool {
		return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-'
	}
	for i := 0; i < len(b); {
		if !isWord(b[i]) {
			i++
			continue
		}
		j, digits := i, 0
		for ; j < len(b) && isWord(b[j]); j++ {
			if isDigit(b[j]) {
				digits++
			}
		}
		if digits > 0 && (j-i >= minTokenLen || open && j == len(b)) {
			for k := i; k < j; k++ {
				b[k] = '#'
			}
		}
		i = j
	}
	for i := 0; i < len(b); {
		if !isDigit(b[i]) {
			i++
			continue
		}
		j, digits := i, 0
		for j < len(b) {
			if isDigit(b[j]) {
				digits++
			} else if !(strings.IndexByte(" -.", b[j]) >= 0 && j+1 < len(b) && isDigit(b[j+1])) {
				break
			}
			j++
		}
		if digits >= minDigitRun || open && j == len(b) {
			for k := i; k < j; k++ {
				if isDigit(b[k]) {
					b[k] = '#'
				}
			}
		}
		i = j
	}
}

// isHTML reports an HTML page, by its Content-Type or by its first bytes.
func isHTML(hdr http.Header, body []byte) bool {
	switch mediaType(hdr) {
	case "text/html", "application/xhtml+xml":
		return true
	}
	return strings.HasPrefix(http.DetectContentType(body), "text/html")
}

// maxTitleSearch bounds how far into an HTML page the title is looked for.
const maxTitleSearch = 64 << 10

// htmlTitle is the text of the page's <title>, entities decoded, or
// nothing: the rest of an error page is markup or an echo of the request.
func htmlTitle(page []byte) []byte {
	page = page[:min(len(page), maxTitleSearch)]
	low := []byte(asciiLower(string(page)))
	open := bytes.Index(low, []byte("<title"))
	if open < 0 {
		return nil
	}
	start := bytes.IndexByte(low[open:], '>')
	if start < 0 {
		return nil
	}
	start += open + 1
	end := bytes.Index(low[start:], []byte("</title"))
	if end < 0 {
		return nil
	}
	return []byte(html.UnescapeString(string(page[start : start+end])))
}
