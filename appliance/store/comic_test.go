package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"tinkerbox/scenes/comic"
)

// openComic opens a store with the comic tables (until the lead splices
// comicMigrations into migrations()).
func openComic(t *testing.T, dir string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir, func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	var exists int
	s.db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name='comics'").Scan(&exists)
	if exists == 0 {
		for _, m := range comicMigrations() {
			if _, err := s.db.Exec(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

// addComic reserves a number and indexes a strip under it, as the scene
// does once the PNG is written.
func addComic(t *testing.T, s *Store, r comic.Record) int64 {
	t.Helper()
	ctx := context.Background()
	n, err := s.ReserveComic(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.N = n
	if r.Width == 0 {
		r.Width, r.Height = 1968, 700
	}
	if err := s.AddComic(ctx, r); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestComicQueueSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openComic(t, dir)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	n1 := addComic(t, s, comic.Record{Seed: 1<<63 + 5, At: at, Theme: "sea", Character: "whale", Grid: "wide", Width: 1968, Height: 1000})
	n2 := addComic(t, s, comic.Record{Seed: 2, At: at, Theme: "cat", Grid: "classic"})
	j1, err := s.EnqueuePrint(ctx, n1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueuePrint(ctx, n2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueuePrint(ctx, 99); !errors.Is(err, ErrNoComic) {
		t.Fatalf("queue a missing comic: %v", err)
	}
	if err := s.PrintFailed(ctx, j1, "escpos: write: unplugged"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openComic(t, dir)
	defer s.Close()
	jobs, err := s.PendingPrints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].Comic != n1 || jobs[0].Attempts != 1 || jobs[0].LastError == "" || jobs[1].Comic != n2 {
		t.Fatalf("after restart: %+v", jobs)
	}
	r, err := s.Comic(ctx, n1)
	if err != nil || r.Seed != 1<<63+5 || r.Width != 1968 || r.Theme != "sea" || !r.At.Equal(at) {
		t.Fatalf("comic %d = %+v, %v", n1, r, err)
	}
	if err := s.PrintDone(ctx, jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	// Deleting a strip drops its queued prints; numbers are never reused.
	if err := s.DeleteComic(ctx, n2); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.PendingPrints(ctx); len(jobs) != 0 {
		t.Fatalf("jobs left: %+v", jobs)
	}
	n3 := addComic(t, s, comic.Record{Seed: 3, At: at, Theme: "cat", Grid: "classic"})
	if n3 != n2+1 {
		t.Fatalf("new number %d after deleting %d", n3, n2)
	}
	list, err := s.Comics(ctx, 0)
	if err != nil || len(list) != 2 || list[0].N != n3 || list[1].Seed != "9223372036854775813" {
		t.Fatalf("list %+v %v", list, err)
	}
	if last, _ := s.LastComic(ctx); last != n3 {
		t.Fatalf("last = %d", last)
	}
	if _, err := s.Comic(ctx, n2); !errors.Is(err, ErrNoComic) {
		t.Fatalf("deleted comic: %v", err)
	}
}

// A number is reserved without a row: until its strip is added nothing
// points at it, a reserved number is never handed out again (the strip was
// interrupted, or it is still being drawn), and the last strip, the gallery
// and the queue know only added strips.
func TestReservedNumberHasNoRow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openComic(t, dir)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if top, err := s.ReservedComics(ctx); err != nil || top != 0 {
		t.Fatalf("reserved on a new database = %d, %v", top, err)
	}
	n1 := addComic(t, s, comic.Record{Seed: 1, At: at, Theme: "sea", Grid: "wide"})
	cut, err := s.ReserveComic(ctx) // a kill came before its PNG was written
	if err != nil || cut != n1+1 {
		t.Fatalf("reserve = %d, %v; want %d", cut, err, n1+1)
	}
	if last, _ := s.LastComic(ctx); last != n1 {
		t.Fatalf("last = %d, want %d", last, n1)
	}
	if _, err := s.Comic(ctx, cut); !errors.Is(err, ErrNoComic) {
		t.Fatalf("reserved strip has a row: %v", err)
	}
	if _, err := s.EnqueuePrint(ctx, cut); !errors.Is(err, ErrNoComic) {
		t.Fatalf("reserved strip queued: %v", err)
	}
	if list, _ := s.Comics(ctx, 0); len(list) != 1 {
		t.Fatalf("gallery %+v", list)
	}
	if err := s.AddComic(ctx, comic.Record{N: n1 + 5}); err == nil {
		t.Fatal("a strip without a size was added")
	}
	s.Close()
	s = openComic(t, dir)
	defer s.Close()
	if top, _ := s.ReservedComics(ctx); top != cut {
		t.Fatalf("reserved after reopen = %d, want %d", top, cut)
	}
	if n := addComic(t, s, comic.Record{Seed: 2, At: at, Theme: "cat", Grid: "classic"}); n != cut+1 {
		t.Fatalf("next number %d, want %d (the interrupted one is not reused)", n, cut+1)
	}
}

// Rows an older version wrote before their PNG (width 0) stay out of the
// gallery and are listed as unfinished, for the appliance to drop.
func TestUnfinishedStripIsNotInTheGallery(t *testing.T) {
	ctx := context.Background()
	s := openComic(t, t.TempDir())
	defer s.Close()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	done := addComic(t, s, comic.Record{Seed: 1, At: at, Theme: "sea", Character: "whale", Grid: "wide"})
	res, err := s.db.ExecContext(ctx, "INSERT INTO comics(seed, at, theme, character, grid) VALUES(2, 0, 'sea', 'whale', 'wide')")
	if err != nil {
		t.Fatal(err)
	}
	cut, _ := res.LastInsertId()
	list, err := s.Comics(ctx, 0)
	if err != nil || len(list) != 1 || list[0].N != done {
		t.Fatalf("gallery = %+v, %v; want only strip %d", list, err, done)
	}
	un, err := s.UnfinishedComics(ctx)
	if err != nil || len(un) != 1 || un[0] != cut {
		t.Fatalf("unfinished = %v, %v; want [%d]", un, err, cut)
	}
}
