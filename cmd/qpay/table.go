package main

import (
	"bytes"
	"io"
	"strings"

	"github.com/rivo/uniseg"
)

// tableWriter aligns tab-separated cells as text/tabwriter does (cells
// padded to their column's widest plus two spaces, the last cell of a line
// not padded, a column spanning the consecutive lines that have it), but
// measures cells in display width: a Chinese character or a full-width
// digit fills two terminal columns, where text/tabwriter counts one rune.
type tableWriter struct {
	w   io.Writer
	buf bytes.Buffer
}

// tablePadding is the space between two columns.
const tablePadding = 2

func newTableWriter(w io.Writer) *tableWriter { return &tableWriter{w: w} }

// Write buffers p until Flush.
func (t *tableWriter) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush aligns and writes what was written since the last Flush.
func (t *tableWriter) Flush() error {
	text := t.buf.String()
	t.buf.Reset()
	if text == "" {
		return nil
	}
	raw := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	lines := make([][]string, len(raw))
	for i, l := range raw {
		lines[i] = strings.Split(l, "\t")
	}
	var out strings.Builder
	format(&out, lines, nil)
	if !strings.HasSuffix(text, "\n") {
		s := strings.TrimSuffix(out.String(), "\n")
		out.Reset()
		out.WriteString(s)
	}
	_, err := io.WriteString(t.w, out.String())
	return err
}

// format writes lines with the column widths found so far, finding the
// next column's blocks recursively (text/tabwriter's algorithm). Each line
// is its cells; all but the last are tab-terminated.
func format(out *strings.Builder, lines [][]string, widths []int) {
	column := len(widths)
	line0 := 0
	for this := 0; this < len(lines); this++ {
		if column >= len(lines[this])-1 {
			continue
		}
		// A block of lines that have a cell in this column.
		writeLines(out, lines[line0:this], widths)
		line0 = this
		width := 0
		for ; this < len(lines) && column < len(lines[this])-1; this++ {
			width = max(width, displayWidth(lines[this][column])+tablePadding)
		}
		format(out, lines[line0:this], append(widths[:column:column], width))
		line0 = this
	}
	writeLines(out, lines[line0:], widths)
}

func writeLines(out *strings.Builder, lines [][]string, widths []int) {
	for _, cells := range lines {
		for j, c := range cells {
			out.WriteString(c)
			if j < len(widths) && j < len(cells)-1 {
				out.WriteString(strings.Repeat(" ", max(0, widths[j]-displayWidth(c))))
			}
		}
		out.WriteByte('\n')
	}
}

// displayWidth is the number of terminal columns s fills: East Asian wide
// and full-width characters count two.
func displayWidth(s string) int { return uniseg.StringWidth(s) }
