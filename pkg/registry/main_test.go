package registry

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: every
// exchange must finish, body closed, before its caller returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
