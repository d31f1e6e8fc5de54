// Package browsertest drives zkcred's web pages in a real headless
// Chromium for tests (github.com/chromedp/chromedp).
//
// One browser process serves a whole test binary (started on first use,
// stopped by Main); each Page is a tab of its own. A Page fails its test
// when the page throws a JavaScript exception, logs a console error (a
// Content-Security-Policy violation among them) or gets a 5xx answer, and
// saves a screenshot when its test fails. Waits are on the DOM with a
// deadline (WaitVisible, WaitText), never fixed sleeps.
//
// The browser is the CHROME environment variable, else the first of
// chromium, chromium-browser and google-chrome on PATH. Without one, New
// skips the test with a message, unless ZKCRED_REQUIRE_BROWSER=1 (CI sets
// it), when it fails. Screenshots go to the test's temporary directory,
// and also into the repository's docs/img/ with ZKCRED_SCREENSHOTS=1 (how
// the README's pictures are made: ZKCRED_SCREENSHOTS=1 go test ./...web...).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Environment variables.
const (
	EnvBrowser     = "CHROME"                 // path of the browser executable
	EnvRequire     = "ZKCRED_REQUIRE_BROWSER" // "1": no browser fails instead of skipping
	EnvScreenshots = "ZKCRED_SCREENSHOTS"     // "1": also save screenshots into docs/img/
)

// Timeout bounds every step of a Page (a navigation, a wait, a click).
const Timeout = 45 * time.Second

// Find returns the browser executable.
func Find() (string, error) {
	if p := os.Getenv(EnvBrowser); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBrowser, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH (and CHROME is not set)")
}

var shared struct {
	once   sync.Once
	ctx    context.Context // the browser's context
	cancel context.CancelFunc
	err    error
}

func browser(path string) (context.Context, error) {
	shared.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.DisableGPU,
			chromedp.WindowSize(1200, 900),
		)
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox) // Chromium refuses root otherwise (CI runs as root)
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		shared.cancel = func() { bcancel(); acancel() }
		// Start the browser now, so that a failure to start is reported
		// once. On bctx itself: the first Run's context owns the browser.
		if err := chromedp.Do(bctx); err != nil {
			shared.err = fmt.Errorf("start %s: %w", path, err)
			shared.cancel()
			return
		}
		shared.ctx = bctx
	})
	return shared.ctx, shared.err
}

// Main runs the tests and then stops the browser: call it from TestMain,
// os.Exit(browsertest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.cancel != nil {
		shared.cancel()
	}
	return code
}

// Page is one browser tab of a test.
type Page struct {
	T   testing.TB
	Ctx context.Context // the tab's chromedp context

	mu       sync.Mutex
	problems []string
	shots    int
}

// New opens a tab for t, or skips t (fails it with ZKCRED_REQUIRE_BROWSER=1)
// when no browser is found. The tab closes when t ends; before that, every
// exception, console error and 5xx answer it saw fails t.
func New(t testing.TB) *Page {
	t.Helper()
	path, err := Find()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("browsertest: %v; %s=1 requires a browser (apt-get install chromium)", err, EnvRequire)
		}
		t.Skipf("browsertest: %v: skipping the browser test (install chromium, or set CHROME)", err)
	}
	bctx, err := browser(path)
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	ctx, cancel := chromedp.NewContext(bctx) // a new tab
	p := &Page{T: t, Ctx: ctx}
	watch, stop := context.WithCancel(ctx)
	msgs := chromedp.Console(watch)
	resps := chromedp.Events(watch, network.ResponseReceived)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range msgs {
			if err != nil {
				return
			}
			// The browser log's network entries repeat what the
			// responses say ("Failed to load resource: 404"); 4xx answers
			// are a page's business, 5xx are caught below.
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
				p.problem("console %s at %s:%d", m, m.URL, m.Line)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range resps {
			if err != nil {
				return
			}
			if ev.Response != nil && ev.Response.Status >= 500 {
				p.problem("%d answer for %s", ev.Response.Status, ev.Response.URL)
			}
		}
	}()
	t.Cleanup(func() {
		// A round trip first, so that events sent before it are in.
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		chromedp.Run(rctx, chromedp.Evaluate[chromedp.Void](`0`))
		rcancel()
		if t.Failed() {
			p.saveFailure()
		}
		stop()
		wg.Wait()
		p.mu.Lock()
		for _, s := range p.problems {
			t.Errorf("browser: %s", s)
		}
		p.mu.Unlock()
		cancel()
	})
	return p
}

func (p *Page) problem(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, a...))
}

// Problems returns the exceptions, console errors and 5xx answers seen so
// far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

func (p *Page) saveFailure() {
	ctx, cancel := context.WithTimeout(p.Ctx, 10*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.T.Logf("browsertest: screenshot on failure: %v", err)
		return
	}
	f := filepath.Join(p.T.TempDir(), "failure.png")
	if err := os.WriteFile(f, b, 0o644); err == nil {
		p.T.Logf("browsertest: screenshot of the failure: %s", f)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		p.T.Logf("browsertest: page at failure: %s", loc)
	}
	if txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`)); err == nil {
		p.T.Logf("browsertest: page text:\n%s", txt)
	}
}

// Do runs actions within Timeout, failing the test on an error.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.T.Fatalf("browser: %v", err)
	}
}

// Run runs one action that returns a value, within Timeout.
func Run[T any](p *Page, a chromedp.Action[T]) T {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.T.Fatalf("browser: %v", err)
	}
	return v
}

// Open navigates to url and fails the test unless the answer has status
// want.
func (p *Page) Open(url string, want int) {
	p.T.Helper()
	resp := Run(p, chromedp.NavigateResponse(url))
	if resp == nil || int(resp.Status) != want {
		got := 0
		if resp != nil {
			got = int(resp.Status)
		}
		p.T.Fatalf("browser: GET %s: status %d, want %d", url, got, want)
	}
}

// Follow clicks the element the CSS selector matches and waits for the
// page it navigates to (after redirects), failing the test unless that
// answers with status want.
func (p *Page) Follow(sel string, want int) {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.T.Fatalf("browser: following %s: %v", sel, err)
	}
	if resp == nil || int(resp.Status) != want {
		got := 0
		if resp != nil {
			got = int(resp.Status)
		}
		p.T.Fatalf("browser: following %s: status %d, want %d", sel, got, want)
	}
}

// WaitVisible waits until the CSS selector matches a visible element.
func (p *Page) WaitVisible(sel string) {
	p.T.Helper()
	p.Do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitText waits until the element the CSS selector matches contains
// text (its textContent), and returns that content.
func (p *Page) WaitText(sel, text string) string {
	p.T.Helper()
	ctx, cancel := context.WithTimeout(p.Ctx, Timeout)
	defer cancel()
	var err error
	for {
		_, err = chromedp.Run(ctx, chromedp.PollFunction[bool](`(sel, want) => {
			const e = document.querySelector(sel);
			return !!e && e.textContent.includes(want);
		}`, chromedp.WithPollingArgs(sel, text), chromedp.WithPollingTimeout(Timeout)))
		// A navigation under way destroys the page the poll ran in: poll
		// the new one, within the same deadline.
		if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "context") || !strings.Contains(err.Error(), "id") {
			break
		}
	}
	if err != nil {
		got, _ := chromedp.Run(p.Ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || "(no such element)"`, sel)))
		p.T.Fatalf("browser: waiting for %q in %s: %v; it holds: %s", text, sel, err, strings.TrimSpace(got))
	}
	return p.Text(sel)
}

// Text returns the text content of the first element the CSS selector
// matches.
func (p *Page) Text(sel string) string {
	p.T.Helper()
	return Run(p, chromedp.TextContent(chromedp.CSS(sel)))
}

// Attr returns an attribute of the first element the CSS selector
// matches.
func (p *Page) Attr(sel, name string) string {
	p.T.Helper()
	v := Run(p, chromedp.AttributeValue(chromedp.CSS(sel), name))
	return v.Value
}

// Phone switches the tab to a phone-sized viewport (390×844 CSS pixels)
// and fails the test when the page is wider than that (content a person
// would have to scroll sideways to read).
func (p *Page) Phone() {
	p.T.Helper()
	p.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
	w := Run(p, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if w > 390 {
		wide := Run(p, chromedp.Evaluate[string](`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 391).slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : "")).join(", ")`))
		p.T.Fatalf("browser: the page is %d CSS pixels wide on a 390-pixel phone (too wide: %s)", w, wide)
	}
}

// Screenshot saves a PNG of the whole page as name.png in the test's
// temporary directory and, with ZKCRED_SCREENSHOTS=1, in docs/img/, and
// returns the first file's path.
func (p *Page) Screenshot(name string) string {
	p.T.Helper()
	b := Run(p, chromedp.FullScreenshot(100))
	p.mu.Lock()
	p.shots++
	p.mu.Unlock()
	f := filepath.Join(p.T.TempDir(), name+".png")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		p.T.Fatal(err)
	}
	if os.Getenv(EnvScreenshots) == "1" {
		root, err := repoRoot()
		if err != nil {
			p.T.Fatalf("browsertest: %v", err)
		}
		dir := filepath.Join(root, "docs", "img")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.T.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
			p.T.Fatal(err)
		}
	}
	return f
}

// repoRoot is the directory of go.mod above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
