package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "output.txt"))
	require.NoError(t, err)
	db := filepath.Join(t.TempDir(), "reconcile.db")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, db))
	assert.Equal(t, string(want), out.String())

	// The state is in the file: a second run finds every order resolved
	// and checks nothing again.
	out.Reset()
	require.NoError(t, run(t.Context(), &out, db))
	assert.Equal(t, 4, strings.Count(out.String(), "-- 0 checked with 0 bank queries"), out.String())
	assert.NotContains(t, out.String(), "paid")
}
