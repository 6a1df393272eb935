module github.com/funbiz-go/sinopac/e2e

go 1.26.0

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/funbiz-go/sinopac v0.0.0-00010101000000-000000000000
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/google/go-querystring v1.2.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)

replace github.com/funbiz-go/sinopac => ../
