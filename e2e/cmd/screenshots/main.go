// Command screenshots takes the pictures of the simulator's payment pages
// that the README shows: the card page and the ATM (virtual account) page,
// in headless Chromium at a phone's width.
//
//	go run ./e2e/cmd/screenshots -out docs
//
// The pages are Traditional Chinese: install a CJK font first (Debian:
// apt-get install fonts-noto-cjk), or the characters show as boxes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/funbiz-go/sinopac/e2e"
	"github.com/funbiz-go/sinopac/qpaytest"
)

func main() {
	out := flag.String("out", "docs", "directory to write card-page.png and atm-page.png to")
	scale := flag.Float64("scale", 2, "device pixels per CSS pixel")
	flag.Parse()
	if err := run(*out, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(out string, scale float64) error {
	path, err := e2e.ChromiumPath()
	if err != nil {
		return err
	}
	srv := qpaytest.NewServer()
	defer srv.Close()
	c, err := srv.NewClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pages, err := e2e.SamplePages(ctx, c)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "qpay-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	bctx, stop := e2e.NewBrowser(ctx, path, profile)
	defer stop()
	for _, p := range pages {
		file := filepath.Join(out, p.File)
		if err := e2e.TakeScreenshot(bctx, p, scale, file); err != nil {
			return fmt.Errorf("%s: %w", p.File, err)
		}
		fmt.Println("wrote", file)
	}
	return nil
}
