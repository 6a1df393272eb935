package reconcile_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every pass, loop and store shuts down without leaving goroutines behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
