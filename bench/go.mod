module github.com/funbiz-go/sinopac/bench

go 1.26.0

require github.com/funbiz-go/sinopac v0.0.0

require golang.org/x/time v0.16.0 // indirect

replace github.com/funbiz-go/sinopac => ../
