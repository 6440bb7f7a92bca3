package llamacpp

import "syscall"

// sysProcAttr makes the kernel kill the peer when the process that started it dies (a test
// binary killed by its timeout runs no cleanup). A peer that outlives its thread of birth
// would also see its stdin closed and end by itself once idle.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
