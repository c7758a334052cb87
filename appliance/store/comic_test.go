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

func TestComicQueueSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openComic(t, dir)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	n1, err := s.NewComic(ctx, comic.Record{Seed: 1<<63 + 5, At: at, Theme: "sea", Character: "whale", Grid: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	n2, _ := s.NewComic(ctx, comic.Record{Seed: 2, At: at, Theme: "cat", Grid: "classic"})
	if err := s.SetComicSize(ctx, n1, 1968, 1000); err != nil {
		t.Fatal(err)
	}
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
	n3, _ := s.NewComic(ctx, comic.Record{Seed: 3, At: at, Theme: "cat", Grid: "classic"})
	if n3 != n2+1 {
		t.Fatalf("new number %d after deleting %d", n3, n2)
	}
	if err := s.SetComicSize(ctx, n3, 1968, 700); err != nil { // its archive is written
		t.Fatal(err)
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

// A strip reaches the gallery only once its archive PNG is written; one a
// power cut interrupted is listed as unfinished, for the appliance to drop.
func TestUnfinishedStripIsNotInTheGallery(t *testing.T) {
	ctx := context.Background()
	s := openComic(t, t.TempDir())
	defer s.Close()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	done, err := s.NewComic(ctx, comic.Record{Seed: 1, At: at, Theme: "sea", Character: "whale", Grid: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetComicSize(ctx, done, 1968, 700); err != nil {
		t.Fatal(err)
	}
	cut, err := s.NewComic(ctx, comic.Record{Seed: 2, At: at, Theme: "sea", Character: "whale", Grid: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.Comics(ctx, 0)
	if err != nil || len(list) != 1 || list[0].N != done {
		t.Fatalf("gallery = %+v, %v; want only strip %d", list, err, done)
	}
	un, err := s.UnfinishedComics(ctx)
	if err != nil || len(un) != 1 || un[0] != cut {
		t.Fatalf("unfinished = %v, %v; want [%d]", un, err, cut)
	}
}
