package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxBundle bounds an upload: twice the largest card layout's slot.
const maxBundle = 1 << 30

// rebootDelay lets the answer reach the client before the board goes down.
const rebootDelay = time.Second

// Handler serves the socket protocol (see client.go). After a successful
// install or rollback it reboots on trial.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Status()
		if err != nil {
			writeLine(w, http.StatusServiceUnavailable, line{Error: err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /install", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		rc := http.NewResponseController(w)
		// Progress goes out while the bundle still comes in.
		if err := rc.EnableFullDuplex(); err != nil {
			writeLine(w, http.StatusInternalServerError, line{Error: "update: " + err.Error()})
			return
		}
		var last time.Time
		res, err := s.Install(r.Context(), http.MaxBytesReader(w, r.Body, maxBundle), func(p Progress) {
			// At most a few lines a second, and every phase change.
			if now := time.Now(); now.Sub(last) > 250*time.Millisecond || p.Done == 0 || p.Done == p.Total {
				last = now
				enc.Encode(line{Progress: &p})
				rc.Flush()
			}
		})
		if err != nil {
			if errors.Is(err, ErrBusy) {
				w.WriteHeader(http.StatusConflict)
			}
			enc.Encode(line{Error: err.Error()})
			return
		}
		enc.Encode(line{Result: &res})
		rc.Flush()
		s.rebootSoon()
	})
	mux.HandleFunc("POST /rollback", func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.Rollback(r.Context()); err != nil {
			writeLine(w, http.StatusConflict, line{Error: err.Error()})
			return
		}
		writeLine(w, http.StatusOK, line{Result: &Result{}})
		s.rebootSoon()
	})
	mux.HandleFunc("PUT /config", func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxConfig))
		if err != nil {
			writeLine(w, http.StatusRequestEntityTooLarge, line{Error: fmt.Sprintf("update: the configuration is larger than %d KiB", MaxConfig>>10)})
			return
		}
		if err := s.WriteConfig(data); err != nil {
			writeLine(w, http.StatusBadRequest, line{Error: err.Error()})
			return
		}
		writeLine(w, http.StatusOK, line{Result: &Result{}})
	})
	return mux
}

func (s *Service) rebootSoon() {
	go func() {
		<-s.clock.After(rebootDelay)
		if err := s.RebootTrial(); err != nil {
			s.log.Error("reboot on trial", "err", err)
		}
	}()
}

func writeLine(w http.ResponseWriter, code int, l line) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(l)
}
