package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// A running run is leased by the process working on it: runs.owner names
// the process (host:pid) and runs.heartbeat_at is refreshed while it works.
// Open marks interrupted the running runs whose process is gone, and
// ResumeRun refuses a run another live process holds.

// ErrRunBusy is returned by ResumeRun when another live process is working
// on the run.
var ErrRunBusy = errors.New("another thesisdb process is working on it")

var (
	// heartbeatEvery is how often a process refreshes its runs' heartbeat.
	heartbeatEvery = 30 * time.Second
	// staleAfter is how long without a heartbeat makes a run's process
	// presumed dead even when its pid cannot be checked (another host).
	staleAfter = 5 * time.Minute
)

// selfHost and self are this host and process as recorded in runs.owner.
var (
	selfHost = func() string {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return "localhost"
		}
		return host
	}()
	self = selfHost + ":" + strconv.Itoa(os.Getpid())
)

const timeLayout = "2006-01-02T15:04:05.000Z"

// ownerAlive reports whether the process that holds a running run may
// still be working on it.
func ownerAlive(owner, heartbeat string, now time.Time) bool {
	hb, err := time.Parse(timeLayout, heartbeat)
	if err != nil || now.Sub(hb) > staleAfter {
		return false
	}
	i := strings.LastIndexByte(owner, ':')
	if i < 0 || owner[:i] != selfHost {
		return true // another host: the heartbeat is all we know
	}
	pid, err := strconv.Atoi(owner[i+1:])
	return err == nil && pid > 0 && (pid == os.Getpid() || processAlive(pid))
}

// reapRuns marks interrupted the running runs whose process is gone,
// stamping finished_at with their last heartbeat. Runs recorded before
// owners were (owner NULL) are left alone.
func (db *DB) reapRuns(ctx context.Context) error {
	rows, err := db.w.QueryContext(ctx, `SELECT id, owner, coalesce(heartbeat_at, '') FROM runs WHERE status = ? AND owner IS NOT NULL`, RunRunning)
	if err != nil {
		return err
	}
	type held struct {
		id               int64
		owner, heartbeat string
	}
	var dead []held
	now := time.Now()
	for rows.Next() {
		var h held
		if err := rows.Scan(&h.id, &h.owner, &h.heartbeat); err != nil {
			rows.Close()
			return err
		}
		if !ownerAlive(h.owner, h.heartbeat, now) {
			dead = append(dead, h)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, h := range dead {
		err := db.tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = nullif(heartbeat_at, '')
				WHERE id = ? AND status = ? AND owner = ? AND coalesce(heartbeat_at, '') = ?`,
				RunInterrupted, h.id, RunRunning, h.owner, h.heartbeat)
			return err
		})
		if err != nil {
			return fmt.Errorf("mark run %d interrupted: %w", h.id, err)
		}
	}
	return nil
}

// ResumeRun sets an interrupted, failed or waiting run running again,
// owned by this process. It fails with ErrRunBusy while another live
// process holds the run.
func (db *DB) ResumeRun(ctx context.Context, id int64) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var status, owner, heartbeat string
		err := tx.QueryRowContext(ctx, `SELECT status, coalesce(owner, ''), coalesce(heartbeat_at, '') FROM runs WHERE id = ?`, id).
			Scan(&status, &owner, &heartbeat)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if status == RunRunning && owner != self && ownerAlive(owner, heartbeat, time.Now()) {
			return fmt.Errorf("%w (%s, last heartbeat %s)", ErrRunBusy, owner, heartbeat)
		}
		_, err = tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = NULL, owner = ?,
			heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`, RunRunning, self, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("resume run %d: %w", id, err)
	}
	db.lease(id)
	return nil
}

// lease starts refreshing run id's heartbeat until its status changes or
// the database is closed.
func (db *DB) lease(id int64) {
	db.leaseMu.Lock()
	defer db.leaseMu.Unlock()
	if db.leased == nil {
		db.leased = map[int64]bool{}
		db.stopBeat, db.beatDone = make(chan struct{}), make(chan struct{})
		go db.heartbeat(db.stopBeat, db.beatDone)
	}
	db.leased[id] = true
}

func (db *DB) release(id int64) {
	db.leaseMu.Lock()
	delete(db.leased, id)
	db.leaseMu.Unlock()
}

// heartbeat refreshes the leased runs' heartbeat_at every heartbeatEvery.
// A failed refresh is retried at the next tick: a run is presumed dead
// only after staleAfter, many ticks later.
func (db *DB) heartbeat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	every := heartbeatEvery
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		db.leaseMu.Lock()
		ids := make([]any, 0, len(db.leased))
		for id := range db.leased {
			ids = append(ids, id)
		}
		db.leaseMu.Unlock()
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		db.tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE runs SET heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
				WHERE status = '`+RunRunning+`' AND owner = ? AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`,
				append([]any{self}, ids...)...)
			return err
		})
		cancel()
	}
}

// stopHeartbeat ends the heartbeat goroutine, if any.
func (db *DB) stopHeartbeat() {
	db.leaseMu.Lock()
	stop, done := db.stopBeat, db.beatDone
	db.stopBeat = nil
	db.leaseMu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}
