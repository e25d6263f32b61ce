package spec

import (
	"net/http"
	"testing"
)

// TestCookieValueMatchesNetHTTP checks that notCookieValueRune, written out
// to keep net/http out of spec, accepts exactly the bytes http.Cookie.Valid does.
func TestCookieValueMatchesNetHTTP(t *testing.T) {
	for b := 0; b < 256; b++ {
		v := string([]byte{byte(b)})
		httpOK := (&http.Cookie{Name: "user", Value: v}).Valid() == nil
		for _, r := range v {
			if ours := !notCookieValueRune(r); ours != httpOK {
				t.Errorf("byte %#x: spec accepts %v, net/http accepts %v", b, ours, httpOK)
			}
		}
	}
}
