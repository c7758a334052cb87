package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"

	"tinkerbox/scenes/barometer"
)

// barometerMigrations are the barometer's schema steps (append-only), spliced
// into migrations() after the events table.
//
// Raw samples are keyed by unix second (the rowid, so range scans are index
// walks) with integer columns in small units so a row is ~12 bytes: ten years
// at one a minute stays a few hundred MB even before compaction. A failed
// read is a row with NULL values and the error text: a gap, never an invented
// value. Samples older than the raw window are folded into hourly aggregates.
func barometerMigrations() []string {
	return []string{
		`CREATE TABLE baro_samples (
		at  INTEGER PRIMARY KEY, -- unix seconds (sample clock)
		p   INTEGER,             -- station pressure, decipascals; NULL = failed read
		t   INTEGER,             -- temperature, centidegrees Celsius
		err TEXT                 -- why the read failed
	);
	CREATE TABLE baro_hourly (
		hour   INTEGER PRIMARY KEY, -- unix seconds of the hour's start
		n      INTEGER NOT NULL,    -- valid samples
		failed INTEGER NOT NULL,    -- failed reads
		p_mean REAL,                -- decipascals
		p_min  INTEGER,
		p_max  INTEGER,
		t_mean REAL                 -- centidegrees Celsius
	);`,
	}
}

const (
	dPa = physic.Pascal / 10
	cC  = physic.Celsius / 100
)

var _ barometer.SampleStore = (*Store)(nil)

// AddSample implements barometer.SampleStore. A sample at a second already
// stored replaces it (a clock step back must not fail the scene).
func (s *Store) AddSample(ctx context.Context, smp barometer.Sample) error {
	var p, t, e any
	if smp.OK() {
		p = int64(smp.Pressure / dPa)
		t = int64((smp.Temperature - physic.ZeroCelsius) / cC)
	} else {
		e = smp.Err
	}
	_, err := s.db.ExecContext(ctx, "INSERT OR REPLACE INTO baro_samples(at, p, t, err) VALUES(?,?,?,?)", smp.At.Unix(), p, t, e)
	if err != nil {
		return fmt.Errorf("store: add barometer sample: %w", err)
	}
	return nil
}

// Latest implements barometer.SampleStore.
func (s *Store) Latest(ctx context.Context, n int) ([]barometer.Sample, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT at, p, t, err FROM baro_samples ORDER BY at DESC LIMIT ?", n)
	if err != nil {
		return nil, fmt.Errorf("store: latest barometer samples: %w", err)
	}
	defer rows.Close()
	var out []barometer.Sample
	for rows.Next() {
		var at int64
		var p, t sql.NullInt64
		var e sql.NullString
		if err := rows.Scan(&at, &p, &t, &e); err != nil {
			return nil, fmt.Errorf("store: latest barometer samples: %w", err)
		}
		smp := barometer.Sample{At: time.Unix(at, 0).UTC()}
		if p.Valid {
			smp.Pressure = physic.Pressure(p.Int64) * dPa
			smp.Temperature = physic.ZeroCelsius + physic.Temperature(t.Int64)*cC
		} else {
			smp.Err = e.String
			if smp.Err == "" {
				smp.Err = "failed read"
			}
		}
		out = append(out, smp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest barometer samples: %w", err)
	}
	return out, nil
}

// bucketAcc accumulates one bucket in the stored units.
type bucketAcc struct {
	n, failed  int64
	pSum, tSum float64
	pMin, pMax int64
}

func (b *bucketAcc) add(n, failed int64, pMean float64, pMin, pMax int64, tMean float64) {
	if n > 0 {
		if b.n == 0 || pMin < b.pMin {
			b.pMin = pMin
		}
		if b.n == 0 || pMax > b.pMax {
			b.pMax = pMax
		}
		b.pSum += pMean * float64(n)
		b.tSum += tMean * float64(n)
		b.n += n
	}
	b.failed += failed
}

// maxHistoryPoints bounds a history query: more buckets than a chart has
// pixels is a mistake or an attack.
const maxHistoryPoints = 100000

// History implements barometer.SampleStore: SQLite groups the rows into
// buckets (raw samples and, for old data, hourly aggregates) so only the
// buckets cross into Go.
func (s *Store) History(ctx context.Context, from, to time.Time, points int) ([]barometer.Point, error) {
	if points <= 0 || points > maxHistoryPoints {
		return nil, fmt.Errorf("store: barometer history: %d points (want 1..%d)", points, maxHistoryPoints)
	}
	f, t := from.Unix(), to.Unix()
	if t <= f {
		return nil, fmt.Errorf("store: barometer history: empty range %v..%v", from, to)
	}
	// Buckets are whole seconds wide; the last one may be cut short by to.
	width := (t - f + int64(points) - 1) / int64(points)
	acc := make([]bucketAcc, points)
	q := func(query string, args ...any) error {
		rows, err := s.db.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b, n, failed int64
			var pMean, tMean sql.NullFloat64
			var pMin, pMax sql.NullInt64
			if err := rows.Scan(&b, &n, &failed, &pMean, &pMin, &pMax, &tMean); err != nil {
				return err
			}
			if b < 0 || b >= int64(points) {
				continue
			}
			acc[b].add(n, failed, pMean.Float64, pMin.Int64, pMax.Int64, tMean.Float64)
		}
		return rows.Err()
	}
	err := q(`SELECT (at - ?1) / ?2, count(p), count(*) - count(p), avg(p), min(p), max(p), avg(t)
		FROM baro_samples WHERE at >= ?1 AND at < ?3 GROUP BY 1`, f, width, t)
	if err == nil {
		// An hour belongs to the bucket its start falls in.
		err = q(`SELECT (hour - ?1) / ?2, sum(n), sum(failed),
			sum(p_mean * n) / nullif(sum(n), 0), min(p_min), max(p_max), sum(t_mean * n) / nullif(sum(n), 0)
			FROM baro_hourly WHERE hour >= ?1 AND hour < ?3 GROUP BY 1`, f, width, t)
	}
	if err != nil {
		return nil, fmt.Errorf("store: barometer history: %w", err)
	}
	out := make([]barometer.Point, points)
	for i, a := range acc {
		p := barometer.Point{At: time.Unix(f+int64(i)*width, 0).UTC(), N: int(a.n), Failed: int(a.failed)}
		if a.n > 0 {
			p.Mean = physic.Pressure(a.pSum/float64(a.n)*float64(dPa) + 0.5)
			p.Min, p.Max = physic.Pressure(a.pMin)*dPa, physic.Pressure(a.pMax)*dPa
			p.Temperature = physic.ZeroCelsius + physic.Temperature(a.tSum/float64(a.n)*float64(cC))
		}
		out[i] = p
	}
	return out, nil
}

// compactBatch is how many hours one compaction transaction folds: small
// transactions keep a power cut cheap and the scene responsive.
const compactBatch = 24

// Compact implements barometer.SampleStore: raw samples older than before
// (rounded down to a whole hour) are folded into baro_hourly and deleted, a
// day per transaction. Each transaction is atomic, so an interrupted
// compaction leaves every sample either raw or aggregated, never both; an
// hour that gains late samples is merged with its existing aggregate.
func (s *Store) Compact(ctx context.Context, before time.Time) error {
	cut := before.Unix() - before.Unix()%3600
	for {
		var first sql.NullInt64
		if err := s.db.QueryRowContext(ctx, "SELECT min(at) FROM baro_samples WHERE at < ?", cut).Scan(&first); err != nil {
			return fmt.Errorf("store: compact barometer: %w", err)
		}
		if !first.Valid {
			return nil
		}
		start := first.Int64 - first.Int64%3600
		end := min(start+compactBatch*3600, cut)
		if err := s.compactRange(ctx, start, end); err != nil {
			return err
		}
	}
}

func (s *Store) compactRange(ctx context.Context, start, end int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: compact barometer: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO baro_hourly(hour, n, failed, p_mean, p_min, p_max, t_mean)
		SELECT at - at % 3600, count(p), count(*) - count(p), avg(p), min(p), max(p), avg(t)
		FROM baro_samples WHERE at >= ?1 AND at < ?2 GROUP BY 1
		ON CONFLICT(hour) DO UPDATE SET
			p_mean = CASE WHEN n + excluded.n = 0 THEN NULL
				ELSE (coalesce(p_mean, 0) * n + coalesce(excluded.p_mean, 0) * excluded.n) / (n + excluded.n) END,
			t_mean = CASE WHEN n + excluded.n = 0 THEN NULL
				ELSE (coalesce(t_mean, 0) * n + coalesce(excluded.t_mean, 0) * excluded.n) / (n + excluded.n) END,
			p_min = min(coalesce(p_min, excluded.p_min), coalesce(excluded.p_min, p_min)),
			p_max = max(coalesce(p_max, excluded.p_max), coalesce(excluded.p_max, p_max)),
			n = n + excluded.n,
			failed = failed + excluded.failed`, start, end)
	if err != nil {
		return fmt.Errorf("store: compact barometer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM baro_samples WHERE at >= ? AND at < ?", start, end); err != nil {
		return fmt.Errorf("store: compact barometer: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: compact barometer: %w", err)
	}
	return nil
}
