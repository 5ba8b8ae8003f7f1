package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// deadPid returns the pid of a process that has exited.
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// setOwner makes run id look held by owner, last heard from age ago.
func setOwner(t *testing.T, db *DB, id int64, owner string, age time.Duration) {
	t.Helper()
	hb := time.Now().Add(-age).UTC().Format(timeLayout)
	if _, err := db.w.Exec(`UPDATE runs SET status = 'running', owner = ?, heartbeat_at = ? WHERE id = ?`, owner, hb, id); err != nil {
		t.Fatal(err)
	}
}

func status(t *testing.T, db *DB, id int64) (status, owner, finished string) {
	t.Helper()
	err := db.r.QueryRow(`SELECT status, coalesce(owner, ''), coalesce(finished_at, '') FROM runs WHERE id = ?`, id).Scan(&status, &owner, &finished)
	if err != nil {
		t.Fatal(err)
	}
	return
}

// TestOpenMarksDeadRunsInterrupted: the next Open marks interrupted the
// running runs whose process is gone — a dead pid on this host, or silence
// past staleAfter from another host — and leaves the live ones running.
func TestOpenMarksDeadRunsInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.sqlite")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	mine := startRun(t, db, "v1")
	if _, o, _ := status(t, db, mine); o != self {
		t.Fatalf("owner %q, want %q", o, self)
	}
	cases := []struct {
		name  string
		owner string
		age   time.Duration
		want  string
	}{
		{"dead pid here", selfHost + ":" + strconv.Itoa(deadPid(t)), time.Second, RunInterrupted},
		{"live pid here, silent too long", selfHost + ":" + strconv.Itoa(os.Getppid()), staleAfter + time.Minute, RunInterrupted},
		{"live pid here", selfHost + ":" + strconv.Itoa(os.Getppid()), time.Second, RunRunning},
		{"other host, recent", "elsewhere.example:1", time.Minute, RunRunning},
		{"other host, silent", "elsewhere.example:1", staleAfter + time.Minute, RunInterrupted},
		{"garbled owner", "nonsense", time.Second, RunRunning},
	}
	ids := map[string]int64{}
	for _, c := range cases {
		ids[c.name] = startRun(t, db, "v1")
		setOwner(t, db, ids[c.name], c.owner, c.age)
	}
	legacy := startRun(t, db, "v1") // recorded before runs had owners
	db.w.Exec(`UPDATE runs SET owner = NULL, heartbeat_at = NULL WHERE id = ?`, legacy)

	// Another process opens the database meanwhile.
	db2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	for _, c := range cases {
		st, _, fin := status(t, db2, ids[c.name])
		if st != c.want {
			t.Errorf("%s: status %s, want %s", c.name, st, c.want)
		}
		if st == RunInterrupted && fin == "" {
			t.Errorf("%s: interrupted without finished_at", c.name)
		}
	}
	if st, _, _ := status(t, db2, mine); st != RunRunning {
		t.Errorf("this process's own run: %s, want running", st)
	}
	if st, _, _ := status(t, db2, legacy); st != RunRunning {
		t.Errorf("run without owner: %s, want it left alone", st)
	}
	db.Close()
}

// TestResumeRunRefusesLiveOwner: two processes cannot resume one run; a
// run whose owner died can be taken over.
func TestResumeRunRefusesLiveOwner(t *testing.T) {
	db := openTest(t)
	id := startRun(t, db, "v1")
	setOwner(t, db, id, selfHost+":"+strconv.Itoa(os.Getppid()), time.Second)
	err := db.ResumeRun(context.Background(), id)
	if !errors.Is(err, ErrRunBusy) {
		t.Fatalf("resume a run a live process holds: %v, want ErrRunBusy", err)
	}
	if st, o, _ := status(t, db, id); st != RunRunning || o == self {
		t.Errorf("refused resume changed the run: %s %s", st, o)
	}
	setOwner(t, db, id, selfHost+":"+strconv.Itoa(deadPid(t)), time.Second)
	if err := db.ResumeRun(context.Background(), id); err != nil {
		t.Fatalf("resume a run whose process died: %v", err)
	}
	if st, o, fin := status(t, db, id); st != RunRunning || o != self || fin != "" {
		t.Errorf("after resume: %s %s %q", st, o, fin)
	}
	if err := db.SetRunStatus(context.Background(), id, RunDone); err != nil {
		t.Fatal(err)
	}
	if err := db.ResumeRun(context.Background(), id); err != nil { // done runs resume too (new documents)
		t.Fatal(err)
	}
	if err := db.ResumeRun(context.Background(), 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("resume a missing run: %v", err)
	}
	if err := db.SetRunStatus(context.Background(), id, RunRunning); err == nil {
		t.Error("SetRunStatus(running) accepted: only ResumeRun takes a run")
	}
}

// TestHeartbeatRefreshesUntilTheRunEnds: a running run's heartbeat_at moves
// while it runs, and stops moving once its status is set.
func TestHeartbeatRefreshesUntilTheRunEnds(t *testing.T) {
	every := heartbeatEvery
	t.Cleanup(func() { heartbeatEvery = every }) // after the DB closes
	heartbeatEvery = 5 * time.Millisecond
	db := openTest(t)
	id := startRun(t, db, "v1")
	hb := func() string {
		var s string
		db.r.QueryRow(`SELECT heartbeat_at FROM runs WHERE id = ?`, id).Scan(&s)
		return s
	}
	old := "2000-01-01T00:00:00.000Z"
	db.w.Exec(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`, old, id)
	deadline := time.Now().Add(10 * time.Second)
	for hb() == old {
		if time.Now().After(deadline) {
			t.Fatal("heartbeat_at never refreshed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := db.SetRunStatus(context.Background(), id, RunDone); err != nil {
		t.Fatal(err)
	}
	db.w.Exec(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`, old, id)
	time.Sleep(50 * time.Millisecond) // ten ticks
	if got := hb(); got != old {
		t.Errorf("heartbeat of a finished run refreshed: %s", got)
	}
}
