package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/funbiz-go/sinopac"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// queryAll is "query --all": every order of the range, with a progress
// bar on stderr when stderr is a terminal (never in pipes, files or CI
// logs).
func (a *app) queryAll(cmd *cobra.Command, c *sinopac.Client, q sinopac.QueryConditions) error {
	var opts []sinopac.QueryAllOption
	var bar *progressbar.ProgressBar
	if isTerminal(a.stderr) {
		bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription("querying"),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(0),
		)
		opts = append(opts, sinopac.WithProgress(func(p sinopac.Progress) {
			bar.Describe(fmt.Sprintf("%d pages queried, %d windows pending, %d orders found", p.Pages, p.Pending, p.Orders))
			_ = bar.Add(1)
		}))
	}
	if a.output == "jsonl" {
		err := a.streamAll(cmd, c, q, opts)
		if bar != nil {
			_ = bar.Finish()
		}
		return err
	}
	orders, err := c.QueryAllOrders(cmd.Context(), q, opts...)
	if bar != nil {
		_ = bar.Finish()
	}
	if err == nil {
		return a.emit(newOrdersView(orders, true))
	}
	var sat *sinopac.SaturatedWindowError
	if len(orders) == 0 || !errors.As(err, &sat) {
		return err
	}
	// Orders were found but a window could not be listed completely:
	// print what there is, marked incomplete, and fail.
	if werr := a.emit(newOrdersView(orders, false)); werr != nil {
		return werr
	}
	return fmt.Errorf("the list is incomplete: %w", err)
}

// streamAll is "query --all -o jsonl": each order is written as its page
// arrives (sinopac.AllOrders), so memory stays a few pages whatever the
// range; lines come in the order the pages do, not sorted. A walk that
// ends in an error has printed what it found and fails with it.
func (a *app) streamAll(cmd *cobra.Command, c *sinopac.Client, q sinopac.QueryConditions, opts []sinopac.QueryAllOption) error {
	n := 0
	for o, err := range c.AllOrders(cmd.Context(), q, opts...) {
		if err != nil {
			if n > 0 {
				return fmt.Errorf("the list is incomplete after %d orders: %w", n, err)
			}
			return err
		}
		j := newOrderJSON(&o)
		if err := writeJSONLine(a.stdout, &j); err != nil {
			return err
		}
		n++
	}
	return nil
}

// isTerminal reports whether w is a terminal (for progress output).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
