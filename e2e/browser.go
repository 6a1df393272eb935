// Package e2e drives the qpaytest simulator's payment pages in headless
// Chromium, as a customer's browser would: its tests run whole checkouts
// against a small merchant app, and cmd/screenshots takes the pictures in
// docs/. It is a module of its own so that the SDK's module never requires
// a browser driver (github.com/chromedp/chromedp).
package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium is returned by ChromiumPath when no Chromium is installed.
var ErrNoChromium = errors.New("e2e: Chromium not found: install it (apt-get install chromium) or set QPAY_CHROMIUM")

// ChromiumPath finds the browser: $QPAY_CHROMIUM, else chromium,
// chromium-browser or google-chrome on the PATH (Debian's chromium is
// /usr/bin/chromium).
func ChromiumPath() (string, error) {
	if p := os.Getenv("QPAY_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// Flags are the switches Chromium runs with: headless, no sandbox (tests
// run as root in containers), no GPU, and nothing that reaches the network
// by itself (QUIC, background updates, component updates, sync), which on
// a machine without outside access makes Chromium stall.
func Flags() []string {
	return []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run", "no-default-browser-check",
		"disable-background-networking", "disable-component-update", "disable-sync", "disable-dev-shm-usage",
		"disable-extensions", "disable-default-apps", "mute-audio", "hide-scrollbars"}
}

// Phone is the viewport the pages are driven and pictured at: a phone's
// width, since customers pay on phones.
const (
	PhoneWidth  = 390
	PhoneHeight = 844
)

// NewBrowser starts Chromium at path with a fresh profile in userDataDir
// (an empty directory the caller removes) and returns a context for its
// first tab; cancel stops the browser and waits for it.
func NewBrowser(ctx context.Context, path, userDataDir string) (context.Context, context.CancelFunc) {
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(PhoneWidth, PhoneHeight)}
	for _, f := range Flags() {
		opts = append(opts, chromedp.Flag(f, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	return tabCtx, func() {
		cancelTab()
		cancelAlloc()
	}
}

// Phone sets a tab's viewport to a phone's, at scale device pixels per
// CSS pixel (2 for sharp pictures, 1 for speed).
func Phone(scale float64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateScale(scale))
}

// Screenshot is a PNG of the whole page.
func Screenshot() chromedp.Action[[]byte] { return chromedp.FullScreenshot(100) }
