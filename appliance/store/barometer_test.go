package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/barometer"
)

// openBaro opens a store in dir with the barometer tables, whether or not
// the lead has spliced barometerMigrations into migrations() yet.
func openBaro(tb testing.TB, dir string) *Store {
	tb.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir, fixedNow())
	if err != nil {
		tb.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'baro_samples'").Scan(&n); err != nil {
		tb.Fatal(err)
	}
	if n == 0 {
		for _, m := range barometerMigrations() {
			if _, err := s.DB().Exec(m); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return s
}

var baroT0 = time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)

func hpaP(v float64) physic.Pressure {
	return physic.Pressure(math.Round(v * 100 * float64(physic.Pascal)))
}

func at20C() physic.Temperature { return physic.ZeroCelsius + 20*physic.Celsius }

func TestBarometerSamplesRoundTripAndSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openBaro(t, dir)
	// The BMP280 datasheet value, 100653.25 Pa, keeps its decipascals.
	in := []barometer.Sample{
		{At: baroT0, Pressure: 10065325 * physic.Pascal / 100, Temperature: physic.ZeroCelsius + 2508*physic.Celsius/100},
		{At: baroT0.Add(time.Minute), Err: "pressure sensor: i2c: no ack"},
		{At: baroT0.Add(2 * time.Minute), Pressure: hpaP(1012.5), Temperature: at20C()},
	}
	for _, smp := range in {
		if err := s.AddSample(ctx, smp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openBaro(t, dir)
	defer s.Close()
	got, err := s.Latest(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d samples after reopening, want 3", len(got))
	}
	if !got[0].At.Equal(in[2].At) || got[0].Pressure != hpaP(1012.5) || got[0].Temperature != at20C() {
		t.Errorf("newest = %+v", got[0])
	}
	if got[1].OK() || got[1].Err != in[1].Err || got[1].Pressure != 0 {
		t.Errorf("gap = %+v, want the error and no value", got[1])
	}
	if want := 1006532 * physic.Pascal / 10; got[2].Pressure != want {
		t.Errorf("datasheet sample = %v, want %v", got[2].Pressure, want)
	}
	if want := physic.ZeroCelsius + 2508*physic.Celsius/100; got[2].Temperature != want {
		t.Errorf("temperature = %v, want %v", got[2].Temperature, want)
	}
}

// addMinutes stores one sample a minute from start, with pressure f(i); a
// NaN from f stores a failed read.
func addMinutes(t testing.TB, s *Store, start time.Time, n int, f func(i int) float64) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		smp := barometer.Sample{At: start.Add(time.Duration(i) * time.Minute)}
		if v := f(i); math.IsNaN(v) {
			smp.Err = "failed"
		} else {
			smp.Pressure, smp.Temperature = hpaP(v), at20C()
		}
		if err := s.AddSample(ctx, smp); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBarometerHistoryBucketsAndGaps(t *testing.T) {
	ctx := context.Background()
	s := openBaro(t, t.TempDir())
	defer s.Close()
	// Two hours: the first rising 1000 → 1011.9, then 30 failed reads, then 1020.
	addMinutes(t, s, baroT0, 120, func(i int) float64 {
		switch {
		case i < 60:
			return 1000 + float64(i)*0.2
		case i < 90:
			return math.NaN()
		}
		return 1020
	})
	pts, err := s.History(ctx, baroT0, baroT0.Add(2*time.Hour), 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 4 {
		t.Fatalf("%d points, want 4", len(pts))
	}
	// Bucket 0: i = 0..29 → mean 1000 + 14.5*0.2 = 1002.9.
	if p := pts[0]; p.N != 30 || math.Abs(float64(p.Mean-hpaP(1002.9))) > float64(physic.Pascal) ||
		p.Min != hpaP(1000) || p.Max != hpaP(1005.8) || !p.At.Equal(baroT0) {
		t.Errorf("bucket 0 = %+v", p)
	}
	if p := pts[2]; !p.Gap() || p.Failed != 30 {
		t.Errorf("bucket 2 = %+v, want a gap of 30 failed reads", p)
	}
	if p := pts[3]; p.N != 30 || p.Mean != hpaP(1020) || p.Temperature != at20C() || !p.At.Equal(baroT0.Add(90*time.Minute)) {
		t.Errorf("bucket 3 = %+v", p)
	}
	// Before the data: all gaps, no failures.
	pts, err = s.History(ctx, baroT0.Add(-time.Hour), baroT0, 3)
	if err != nil || len(pts) != 3 || !pts[0].Gap() || pts[0].Failed != 0 {
		t.Fatalf("empty range = %+v, %v", pts, err)
	}
	for _, bad := range []int{0, -1, maxHistoryPoints + 1} {
		if _, err := s.History(ctx, baroT0, baroT0.Add(time.Hour), bad); err == nil || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("History(points=%d) err = %v", bad, err)
		}
	}
	if _, err := s.History(ctx, baroT0, baroT0, 3); err == nil {
		t.Error("an empty range was accepted")
	}
}

func TestBarometerCompactKeepsHistoryAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openBaro(t, t.TempDir())
	defer s.Close()
	// Three days with a daily sine and a failed read every 100th minute.
	n := 3 * 24 * 60
	addMinutes(t, s, baroT0, n, func(i int) float64 {
		if i%100 == 7 {
			return math.NaN()
		}
		return 1010 + 5*math.Sin(float64(i)/1440*2*math.Pi)
	})
	before, err := s.History(ctx, baroT0, baroT0.Add(72*time.Hour), 12)
	if err != nil {
		t.Fatal(err)
	}
	cut := baroT0.Add(48*time.Hour + 30*time.Minute) // rounds down to 48 h
	for range 2 {
		if err := s.Compact(ctx, cut); err != nil {
			t.Fatal(err)
		}
	}
	var raw, hours, oldest int64
	db := s.DB()
	db.QueryRow("SELECT count(*), min(at) FROM baro_samples").Scan(&raw, &oldest)
	db.QueryRow("SELECT count(*) FROM baro_hourly").Scan(&hours)
	if raw != 24*60 || hours != 48 || oldest != baroT0.Add(48*time.Hour).Unix() {
		t.Fatalf("after compaction: %d raw from %d, %d hours; want 1440 raw from 48 h, 48 hours", raw, oldest, hours)
	}
	after, err := s.History(ctx, baroT0, baroT0.Add(72*time.Hour), 12)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.N != b.N || a.Failed != b.Failed || a.Min != b.Min || a.Max != b.Max ||
			math.Abs(float64(a.Mean-b.Mean)) > float64(physic.Pascal)/10 {
			t.Errorf("bucket %d: before %+v, after %+v", i, b, a)
		}
	}
	// A late sample inside a compacted hour merges with its aggregate.
	if err := s.AddSample(ctx, barometer.Sample{At: baroT0.Add(30*time.Second + time.Hour), Pressure: hpaP(900), Temperature: at20C()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx, cut); err != nil {
		t.Fatal(err)
	}
	pts, err := s.History(ctx, baroT0.Add(time.Hour), baroT0.Add(2*time.Hour), 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := pts[0]; p.Min != hpaP(900) || p.N != 60 || p.Failed != 1 {
		t.Errorf("merged hour = %+v, want 59+1 samples, 1 failed, min 900 hPa", p)
	}
}

// benchSamples is the size of the benchmark database: ten years at one a
// minute is 5.26 million.
const benchSamples = 5_000_000

var benchEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// benchStore opens the 5-million-sample database, generating it once in the
// OS temp dir (keyed by the schema, so a schema change regenerates it).
func benchStore(b *testing.B) *Store {
	b.Helper()
	h := sha256.New()
	for _, m := range append(migrations(), barometerMigrations()...) {
		h.Write([]byte(m))
	}
	dir := filepath.Join(os.TempDir(), "tinkerbox-baro-bench-"+hex.EncodeToString(h.Sum(nil)[:6]))
	s := openBaro(b, dir)
	var n int
	if err := s.DB().QueryRow("SELECT count(*) FROM baro_samples").Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n == benchSamples {
		return s
	}
	b.Logf("generating %d samples in %s (once)", benchSamples, dir)
	// One statement in the engine: far faster than 5M round trips.
	_, err := s.DB().Exec(`DELETE FROM baro_samples;
	WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1 - 1)
	INSERT INTO baro_samples(at, p, t, err)
	SELECT ?2 - (?1 - i) * 60,
		CASE WHEN i % 997 = 0 THEN NULL ELSE 1013250 + (i * 7919) % 2001 - 1000 END,
		CASE WHEN i % 997 = 0 THEN NULL ELSE 1500 + i % 700 END,
		CASE WHEN i % 997 = 0 THEN 'bench gap' END
	FROM seq`, benchSamples, benchEnd.Unix())
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func benchHistory(b *testing.B, span time.Duration, points int) {
	s := benchStore(b)
	defer s.Close()
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		pts, err := s.History(ctx, benchEnd.Add(-span), benchEnd, points)
		if err != nil || len(pts) != points || pts[points-1].N == 0 {
			b.Fatalf("history: %d points, %v", len(pts), err)
		}
	}
}

// BenchmarkHistory24h: a day for a chart (one point per 5 minutes).
func BenchmarkHistory24h(b *testing.B) { benchHistory(b, 24*time.Hour, 288) }

// BenchmarkHistory7d: a week (one point per 30 minutes).
func BenchmarkHistory7d(b *testing.B) { benchHistory(b, 7*24*time.Hour, 336) }

// BenchmarkHistory30d: the longest raw range the dashboard charts.
func BenchmarkHistory30d(b *testing.B) { benchHistory(b, 30*24*time.Hour, 360) }
