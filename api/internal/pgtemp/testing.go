package pgtemp

import (
	"context"
	"fmt"
	"os"
	gosync "sync"
	"sync/atomic"
	"testing"
)

var (
	shared     *Server
	sharedErr  error
	sharedOnce gosync.Once
	dbSeq      atomic.Int64
)

// ForTest returns the DSN of a fresh, empty database on a cluster shared
// by the test binary (started on first use; call StopShared from TestMain).
// Without PostgreSQL the test is skipped, or fails when CI=true.
func ForTest(tb testing.TB) string {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start(context.Background(), Options{}) })
	if sharedErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required on CI: %v", sharedErr)
		}
		tb.Skipf("skipping PostgreSQL test (install Debian's postgresql; required when CI=true): %v", sharedErr)
	}
	dsn, err := shared.CreateDatabase(context.Background(), fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1)))
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// StopShared stops the cluster ForTest started, if any.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}
