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

// isTerminal reports whether w is a terminal (for progress output).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
