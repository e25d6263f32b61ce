package report

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// tinyPNG is a 2x2 image, a stand-in chart for the golden page.
func tinyPNG(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for i := range 4 {
		img.Set(i%2, i/2, c)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHTMLGolden(t *testing.T) {
	hostile := fixture(t, "rolledback")
	hostile.Metrics[0].Name = `<script>alert("x")</script>`
	hostile.Message = `"><img src=x onerror=alert(1)>`
	hostile.Events[0].Reason = "</td></tr></table>"
	charts := []Chart{
		{Metric: "error-rate", Title: "error-rate: canary v04 vs baseline v03 · High", PNG: tinyPNG(t, canaryColor), Width: 1280, Height: 800},
		{Metric: "latency-p99", Title: "latency-p99: canary v04 vs baseline v03 · Pass", PNG: tinyPNG(t, baselineColor), Width: 640, Height: 400},
	}
	tests := []struct {
		name   string
		report Report
		charts []Chart
	}{
		{"rolledback", fixture(t, "rolledback"), charts},
		{"promoted", fixture(t, "promoted"), nil},
		{"not-started", FromStatus(loadCanary(t, "v04"), nil, fixtureStart), nil},
		{"escaping", hostile, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := HTML(&buf, tc.report, tc.charts); err != nil {
				t.Fatal(err)
			}
			goldenReport(t, tc.name+".html", buf.String())
			assertSelfContained(t, buf.String(), len(tc.charts))
		})
	}
}

// assertSelfContained parses the page and checks that it has no script,
// that every src or href is a data: URI, and that it holds want images,
// each a decodable PNG.
func assertSelfContained(t *testing.T, page string, want int) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	images := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "link" || n.Data == "iframe" {
				t.Errorf("page has a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("<%s> has an event handler %s", n.Data, a.Key)
				}
				if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "data:image/png;base64,") {
					t.Errorf("<%s %s=%q> is not a data URI", n.Data, a.Key, a.Val)
				}
				if n.Data == "img" && a.Key == "src" {
					images++
					data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.Val, "data:image/png;base64,"))
					if err != nil {
						t.Errorf("image %d: %v", images, err)
					} else if _, err := png.Decode(bytes.NewReader(data)); err != nil {
						t.Errorf("image %d is not a PNG: %v", images, err)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if images != want {
		t.Errorf("%d images, want %d", images, want)
	}
}

func TestHTMLPage(t *testing.T) {
	var buf bytes.Buffer
	if err := HTMLPage(&buf, fixture(t, "rolledback"), ChartOptions{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	assertSelfContained(t, page, 2)
	for _, want := range []string{`width="640" height="400"`, "<title>birdwatch: games/aleph v04: RolledBack</title>", `class="badge bad"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	keepChart(t, "report.html", buf.Bytes())
}
