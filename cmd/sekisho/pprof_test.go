package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestPprofSwitch: the profiler is not on the admin listener unless
// SEKISHO_PPROF=1.
func TestPprofSwitch(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{{"", http.StatusNotFound}, {"0", http.StatusNotFound}, {"1", http.StatusOK}} {
		t.Setenv(pprofEnv, tc.env)
		h := adminHandler("tok", newServeMetrics(), func() error { return nil })
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
		if rec.Code != tc.want {
			t.Errorf("%s=%q: GET /debug/pprof/ = %d, want %d", pprofEnv, tc.env, rec.Code, tc.want)
		}
	}
}
