package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"tinkerbox/scenes/scene/fakeclock"
)

// BenchmarkStateJSON is the per-poll cost of every open stream (10 per second).
func BenchmarkStateJSON(b *testing.B) {
	s := newFakeApp().State()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAPIStateBasic is a scripted GET /api/state with Basic auth after
// the first bcrypt check (the cached path).
func BenchmarkAPIStateBasic(b *testing.B) {
	srv, err := New(Options{App: newFakeApp(), PasswordHash: testHash(b), Clock: fakeclock.New(testStart)})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/api/state", nil)
		r.SetBasicAuth("admin", testPassword)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkBcryptCost10 is what one uncached password check costs at the
// production cost (about 20x more on a Pi Zero).
func BenchmarkBcryptCost10(b *testing.B) {
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := bcrypt.CompareHashAndPassword(h, []byte(testPassword)); err != nil {
			b.Fatal(err)
		}
	}
}
