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
	if err := s.PrintFailed(ctx, comic.Job{ID: j1, Comic: n1}, "escpos: write: unplugged"); err != nil {
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
	if err := s.PrintDone(ctx, jobs[0]); err != nil {
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

// A press's strip is recorded before it prints: its first print is a job
// at once, it stays out of the index and the gallery until its archive is
// written, and it is done (its record gone) once printed and archived, in
// either order; a restart finds what is left of it.
func TestStripBeingMade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s, err := Open(ctx, dir, func() time.Time { clock = clock.Add(time.Second); return clock })
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	old := addComic(t, s, comic.Record{Seed: 1, At: at, Theme: "sea", Grid: "wide"})
	reprint, err := s.EnqueuePrint(ctx, old) // queued before the press
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.BeginComic(ctx, comic.Record{N: 99, Seed: 1<<63 + 7, At: at, Theme: "cat", Character: "cat", Grid: "yonkoma"})
	if err != nil || a != old+1 {
		t.Fatalf("begin = %d, %v; want %d", a, err, old+1)
	}
	b, err := s.BeginComic(ctx, comic.Record{Seed: 8, At: at, Theme: "robots", Grid: "column"})
	if err != nil || b != a+1 {
		t.Fatalf("begin = %d, %v; want %d", b, err, a+1)
	}
	jobs, err := s.PendingPrints(ctx)
	if err != nil || len(jobs) != 3 || jobs[0].ID != reprint || jobs[0].Making != nil ||
		jobs[1].Comic != a || jobs[1].Making == nil || jobs[2].Comic != b {
		t.Fatalf("queue = %+v, %v; want the reprint, then %d and %d", jobs, err, a, b)
	}
	if m := *jobs[1].Making; m.N != a || m.Seed != 1<<63+7 || !m.At.Equal(at) || m.Grid != "yonkoma" || m.Character != "cat" || m.Width != 0 {
		t.Fatalf("record of strip %d = %+v", a, m)
	}
	if _, err := s.Comic(ctx, a); !errors.Is(err, ErrNoComic) {
		t.Fatalf("a strip being made is in the index: %v", err)
	}
	if last, _ := s.LastComic(ctx); last != old {
		t.Fatalf("last = %d, want %d", last, old)
	}
	if err := s.PrintFailed(ctx, jobs[1], "escpos: write: unplugged"); err != nil {
		t.Fatal(err)
	}
	// The power goes: both strips are still there, neither archived.
	s.Close()
	s, err = Open(ctx, dir, func() time.Time { clock = clock.Add(time.Second); return clock })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	un, err := s.UnarchivedComics(ctx)
	if err != nil || len(un) != 2 || un[0].N != a || un[0].Seed != 1<<63+7 || un[1].N != b {
		t.Fatalf("unarchived = %+v, %v", un, err)
	}
	if jobs, _ = s.PendingPrints(ctx); len(jobs) != 3 || jobs[1].Attempts != 1 || jobs[1].LastError == "" {
		t.Fatalf("after restart: %+v", jobs)
	}
	// a: archived first, then printed.
	if err := s.AddComic(ctx, comic.Record{N: a, Seed: 1<<63 + 7, At: at, Theme: "cat", Grid: "yonkoma", Width: 528, Height: 2078}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Comics(ctx, 0)
	if err != nil || len(list) != 2 || list[0].N != a || list[0].Queued != 1 {
		t.Fatalf("gallery = %+v, %v; want %d first with its print queued", list, err, a)
	}
	jobs, _ = s.PendingPrints(ctx)
	if jobs[1].Making == nil || jobs[1].Making.Width != 528 {
		t.Fatalf("archived strip's job = %+v", jobs[1])
	}
	if err := s.PrintDone(ctx, jobs[1]); err != nil {
		t.Fatal(err)
	}
	// b: printed first, then archived.
	if err := s.PrintDone(ctx, jobs[2]); err != nil {
		t.Fatal(err)
	}
	if un, _ := s.UnarchivedComics(ctx); len(un) != 1 || un[0].N != b {
		t.Fatalf("unarchived = %+v; want %d, printed", un, b)
	}
	if jobs, _ := s.PendingPrints(ctx); len(jobs) != 1 || jobs[0].ID != reprint {
		t.Fatalf("queue = %+v; want the reprint only", jobs)
	}
	if err := s.AddComic(ctx, comic.Record{N: b, Seed: 8, At: at, Theme: "robots", Grid: "column", Width: 1008, Height: 2078}); err != nil {
		t.Fatal(err)
	}
	var left int
	s.db.QueryRow("SELECT count(*) FROM comic_making").Scan(&left)
	if left != 0 {
		t.Fatalf("%d strips still being made", left)
	}
	// A strip being made can be deleted (it cannot be drawn again).
	c, err := s.BeginComic(ctx, comic.Record{Seed: 9, At: at, Theme: "sea", Grid: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteComic(ctx, c); err != nil {
		t.Fatal(err)
	}
	if un, _ := s.UnarchivedComics(ctx); len(un) != 0 {
		t.Fatalf("deleted strip still unarchived: %+v", un)
	}
	if n := addComic(t, s, comic.Record{Seed: 10, At: at, Theme: "sea", Grid: "wide"}); n != c+1 {
		t.Fatalf("next number %d, want %d", n, c+1)
	}
}
