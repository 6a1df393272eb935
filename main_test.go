package sinopac

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// retry timer, a prefetch fetch or a connection left behind. It is the
// only TestMain of package sinopac.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
