//go:build cgo && !js

package gpu

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// childEnv marks the test process TestMain runs the tests in.
const childEnv = "AISLE_GPU_TEST_CHILD"

// TestMain runs the package's tests in a child process, and runs them once more if that
// process dies of SIGSEGV. Mesa's lavapipe (Debian 12's software Vulkan driver, which the
// tests use where there is no GPU) crashes its queue thread when the machine is busy: on a
// 2-core AVX2 machine, TestRandomModelsMatchCPU beside two busy loops died every time with a
// bare SIGSEGV inside libvulkan_lvp.so and no Go frame, and passed every time alone. So `make
// test` runs this package after the others, alone, and a rare crash there gets one more run;
// a crash that comes back fails the package as before.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(m.Run())
	}
	for attempt := 1; ; attempt++ {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err == nil {
			os.Exit(0)
		}
		if !errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "gpu tests:", err)
			os.Exit(1)
		}
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() && ws.Signal() == syscall.SIGSEGV && attempt == 1 {
			fmt.Fprintln(os.Stderr, "gpu tests: the test process died of SIGSEGV (lavapipe's queue thread, see TestMain); running the tests once more")
			continue
		}
		if ws.Signaled() {
			fmt.Fprintf(os.Stderr, "gpu tests: the test process died of %v\n", ws.Signal())
			os.Exit(2)
		}
		os.Exit(ee.ExitCode())
	}
}
