package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/birdwatch-gitops/birdwatch/functions/core"
	"github.com/birdwatch-gitops/birdwatch/gitops/spec"
	"github.com/birdwatch-gitops/birdwatch/rollout"
)

// slackAPI answers chat.postMessage, files.getUploadURLExternal, the
// upload URL it hands out and files.completeUploadExternal like Slack's Web
// API (responses shaped as in Slack's method docs) and records what it got.
type slackAPI struct {
	t          *testing.T
	mu         sync.Mutex
	forms      []map[string]string // chat.postMessage
	upload     *upload             // the last file upload, step by step
	fail       string              // method answering {"ok":false,"error":"..."}
	failReason string
}

// upload is one three-step file upload as the server saw it.
type upload struct {
	filename, length, altTxt string // files.getUploadURLExternal
	data                     []byte // the POST to upload_url, field "file"
	partName                 string
	files, channel, threadTS string // files.completeUploadExternal
	completed, uploadedToURL bool
}

// Slack's documented example values.
const (
	testToken     = "xoxb-test-token"
	testChannelID = "C024BE91L"
	testTS        = "1503435956.000247"
	testFileID    = "F07J9PXRHC4"
)

func (a *slackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/")
	if strings.HasPrefix(method, "upload/v1/") {
		a.receiveFile(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken && r.PostForm.Get("token") != testToken {
		a.t.Logf("rejected %s %q", r.URL.Path, r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch method {
	case "chat.postMessage":
		a.forms = append(a.forms, map[string]string{"channel": r.PostForm.Get("channel"), "blocks": r.PostForm.Get("blocks"), "text": r.PostForm.Get("text")})
		if a.failed(w, method) {
			return
		}
		_, _ = fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"message":{"type":"message","subtype":"bot_message","text":"x","ts":%q}}`, testChannelID, testTS, testTS)
	case "files.getUploadURLExternal":
		a.upload = &upload{filename: r.PostForm.Get("filename"), length: r.PostForm.Get("length"), altTxt: r.PostForm.Get("alt_txt")}
		if a.failed(w, method) {
			return
		}
		_, _ = fmt.Fprintf(w, `{"ok":true,"upload_url":"http://%s/upload/v1/CwABAAAAXAoAAZu1","file_id":%q}`, r.Host, testFileID)
	case "files.completeUploadExternal":
		if a.upload == nil || !a.upload.uploadedToURL {
			_, _ = w.Write([]byte(`{"ok":false,"error":"file_not_found"}`))
			return
		}
		a.upload.files, a.upload.channel, a.upload.threadTS = r.PostForm.Get("files"), r.PostForm.Get("channel_id"), r.PostForm.Get("thread_ts")
		a.upload.completed = true
		if a.failed(w, method) {
			return
		}
		var files []struct{ ID, Title string }
		if err := json.Unmarshal([]byte(a.upload.files), &files); err != nil || len(files) != 1 || files[0].ID != testFileID {
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_arguments"}`))
			return
		}
		_, _ = fmt.Fprintf(w, `{"ok":true,"files":[{"id":%q,"title":%q}]}`, testFileID, files[0].Title)
	default:
		_, _ = w.Write([]byte(`{"ok":false,"error":"unknown_method"}`))
	}
}

// failed answers Slack's error response when method is the one told to
// fail, after the request was recorded.
func (a *slackAPI) failed(w http.ResponseWriter, method string) bool {
	if method != a.fail {
		return false
	}
	_, _ = fmt.Fprintf(w, `{"ok":false,"error":%q}`, a.failReason)
	return true
}

// receiveFile takes the multipart POST to the upload URL; Slack answers it
// with 200 and "OK - <bytes>".
func (a *slackAPI) receiveFile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	f, h, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.upload == nil {
		http.Error(w, "no upload URL was handed out", http.StatusNotFound)
		return
	}
	a.upload.data, a.upload.partName, a.upload.uploadedToURL = data, h.Filename, true
	_, _ = fmt.Fprintf(w, "OK - %d", len(data))
}

func TestSlackNotify(t *testing.T) {
	canary := func(notify bool) *spec.Canary {
		c := &spec.Canary{Metadata: spec.Metadata{Name: "aleph", Namespace: "games"},
			Spec: spec.CanarySpec{Steps: make([]spec.Step, 7)}}
		if notify {
			c.Spec.Notify.Slack = &spec.SlackNotify{Channel: "#deploys"}
		}
		return c
	}
	outcome := core.Outcome{Canary: "games/aleph", Commit: "8a77a13f00d1c0ffee00000000000000000000aa",
		Decision: rollout.Decision{Action: rollout.ActionRollback, From: 10, Reason: "critical metric failed",
			Status: spec.Status{Generation: "v04", Stable: "v03", Phase: spec.PhaseRolledBack, Step: 1}}}
	tests := []struct {
		name       string
		canary     *spec.Canary
		fail       bool
		assertions func(t *testing.T, api *slackAPI, err error)
	}{
		{"posts blocks and text to the spec's channel, no chart without a range provider", canary(true), false, func(t *testing.T, api *slackAPI, err error) {
			if err != nil || len(api.forms) != 1 {
				t.Fatalf("err %v, %d posts", err, len(api.forms))
			}
			f := api.forms[0]
			var blocks []map[string]any
			if f["channel"] != "#deploys" || json.Unmarshal([]byte(f["blocks"]), &blocks) != nil || len(blocks) == 0 {
				t.Errorf("form %+v", f)
			}
			if !strings.Contains(f["blocks"], "games/aleph") || !strings.Contains(f["text"], "games/aleph") {
				t.Errorf("the message does not name the canary: %+v", f)
			}
			if api.upload != nil {
				t.Errorf("a file upload was started without a range provider: %+v", api.upload)
			}
		}},
		{"a canary without notify.slack is skipped", canary(false), false, func(t *testing.T, api *slackAPI, err error) {
			if err != nil || len(api.forms) != 0 {
				t.Errorf("err %v, %d posts", err, len(api.forms))
			}
		}},
		{"a Slack error is returned with the channel", canary(true), true, func(t *testing.T, api *slackAPI, err error) {
			if err == nil || !strings.Contains(err.Error(), "channel_not_found") || !strings.Contains(err.Error(), "#deploys") {
				t.Errorf("err %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &slackAPI{t: t}
			if tt.fail {
				api.fail, api.failReason = "chat.postMessage", "channel_not_found"
			}
			srv := httptest.NewServer(api)
			defer srv.Close()
			err := NewSlack(testToken, srv.URL+"/").Notify(context.Background(), tt.canary, outcome)
			tt.assertions(t, api, err)
		})
	}
}
