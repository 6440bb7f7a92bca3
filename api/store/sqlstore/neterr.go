package sqlstore

import (
	"database/sql/driver"
	"errors"
	"net"
	"syscall"
)

var driverBadConn = driver.ErrBadConn

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ENOSPC)
}
