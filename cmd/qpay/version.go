package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print qpay's module version and the Go version it was built with",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return a.emit(newVersionView())
		},
	}
}

// versionView is the JSON document of "qpay version -o json".
type versionView struct {
	Module    string `json:"module"`
	Version   string `json:"version"` // "(devel)" for a build from a checkout
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

func newVersionView() *versionView {
	v := &versionView{Module: "github.com/funbiz-go/sinopac/cmd/qpay", Version: "(unknown)",
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			v.Module = bi.Main.Path
		}
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	return v
}

func (v *versionView) table(w io.Writer, _ tableOpts) { fmt.Fprintln(w, v.line()) }

// line is the one-line form, also what --version prints.
func (v *versionView) line() string {
	s := fmt.Sprintf("qpay %s (%s) %s %s", v.Version, v.Module, v.GoVersion, v.Platform)
	if v.Revision != "" {
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " revision " + rev
		if v.Modified {
			s += " (modified)"
		}
	}
	return s
}

func (v *versionView) csv() ([]string, [][]string) {
	return []string{"module", "version", "revision", "modified", "go_version", "platform"},
		[][]string{{v.Module, v.Version, v.Revision, yesNo(v.Modified), v.GoVersion, v.Platform}}
}
