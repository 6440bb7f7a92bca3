package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"aisle/api/store"
)

// NotifyChannel is the PostgreSQL channel a publish notifies (payload: the
// store ID) when its transaction commits.
const NotifyChannel = "aisle_checkpoint"

// ListenApplicationName is the application_name of Listen's connection
// (operators and tests find its backend in pg_stat_activity by it).
const ListenApplicationName = "aisle-listen"

var _ store.Notifier = (*DB)(nil)

// Listen implements store.Notifier on PostgreSQL: a dedicated pgx
// connection (not one of the pool's) runs LISTEN and waits for
// notifications. On SQLite it returns errors.ErrUnsupported.
//
// A connection that dies silently (no RST) is noticed by TCP keepalive
// (pgx's dialer); callers keep a slow safety-net poll for that case.
func (s *DB) Listen(ctx context.Context, ready func(), notify func(storeID string)) error {
	if s.dialect != postgres || s.dsn == "" {
		return errors.ErrUnsupported
	}
	cfg, err := pgx.ParseConfig(s.dsn)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cfg.RuntimeParams["application_name"] = ListenApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{NotifyChannel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("listen: %w", err)
		}
		notify(n.Payload)
	}
}
