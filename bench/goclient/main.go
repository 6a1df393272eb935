// Command goclient measures the SDK's client CPU per OrderQuery call for
// the side-by-side of BENCHMARKS.md: the default client of
// NewClient(shop, keys, WithBaseURL(url)) calling QueryOrders, as a user
// would. It prints one line of JSON with its own CPU time (getrusage of
// this process, user+sys) and wall time per call over -n calls, after
// -warm calls that are not counted.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/funbiz-go/sinopac"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	url := flag.String("url", "", "the server's base URL")
	mode := flag.String("mode", "single", "single (one order by OrderNo) or page (a 300-order range)")
	n := flag.Int("n", 200, "calls measured")
	warm := flag.Int("warm", 20, "calls before measuring")
	label := flag.String("label", "go", "name printed with the result")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the measured calls to this file")
	flag.Parse()

	keys := sinopac.HashKeys{A1: "86D50DEF3EB7400E", A2: "01FD27C09E5549E5", B1: "9E004965F4244953", B2: "7FB3385F414E4F91"}
	c, err := sinopac.NewClient("NA0249_001", keys, sinopac.WithBaseURL(*url))
	if err != nil {
		log.Fatal(err)
	}
	q := sinopac.QueryConditions{OrderNo: "A202110507397"}
	want := 1
	if *mode == "page" {
		q = sinopac.QueryConditions{OrderDateTimeS: time.Date(2026, 10, 1, 0, 0, 0, 0, sinopac.Taipei),
			OrderDateTimeE: time.Date(2026, 10, 31, 23, 59, 0, 0, sinopac.Taipei)}
		want = 300
	}
	ctx := context.Background()
	call := func() {
		r, err := c.QueryOrders(ctx, q)
		if err != nil {
			log.Fatal(err)
		}
		if len(r.OrderList) != want || r.OrderList[0].Amount <= 0 {
			log.Fatalf("%d orders, want %d", len(r.OrderList), want)
		}
	}
	for range *warm {
		call()
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0, t0 := cpu(), time.Now()
	for range *n {
		call()
	}
	c1, t1 := cpu(), time.Now()
	runtime.ReadMemStats(&m1)
	if *profile != "" {
		pprof.StopCPUProfile()
	}
	out, _ := json.Marshal(map[string]any{"client": *label, "mode": *mode, "calls": *n,
		"cpu_us_per_call": float64(c1-c0) / float64(*n) / 1e3, "wall_us_per_call": float64(t1.Sub(t0)) / float64(*n) / 1e3,
		"allocs_per_call": float64(m1.Mallocs-m0.Mallocs) / float64(*n), "bytes_per_call": float64(m1.TotalAlloc-m0.TotalAlloc) / float64(*n),
		"gc_cycles": m1.NumGC - m0.NumGC})
	fmt.Fprintln(os.Stdout, string(out))
}
