package sqlstore

import (
	"cmp"
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
// A connection quiet for ListenPing is pinged, and one that does not
// answer within ListenPing ends Listen with an error: a connection that
// died silently (no reset: a dropped NAT entry, a peer gone off the
// network) is noticed within twice ListenPing, where TCP keepalive would
// take minutes. Notifications that arrive during a ping are kept.
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
	ping := cmp.Or(s.ListenPing, DefaultListenPing)
	for {
		wctx, cancel := context.WithTimeout(ctx, ping)
		n, err := conn.WaitForNotification(wctx)
		quiet := wctx.Err() != nil
		cancel()
		if n != nil {
			notify(n.Payload) // even if the wait timed out as it came
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case quiet:
			pctx, cancel := context.WithTimeout(ctx, ping)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("listen: no answer to a ping within %v: %w", ping, err)
			}
		default:
			return fmt.Errorf("listen: %w", err)
		}
	}
}

// DefaultListenPing is Listen's ping interval and timeout when
// DB.ListenPing is zero.
const DefaultListenPing = 10 * time.Second
