package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// slow3G throttles the page like DevTools' "Slow 3G" preset: 2 s latency,
// 50 kB/s down and up.
func (b *browser) slow3G() {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Latency: 2000, DownloadThroughput: 50_000, UploadThroughput: 50_000}},
		})
		return err
	}))
}

// startNavigation goes to url without waiting for the page's load event
// (chromedp's Navigate waits for it): what a user sees before then counts.
func (b *browser) startNavigation(url string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.Navigate, page.NavigateParams{URL: url})
		return err
	}))
}

// loginFormShown is true once a login form is laid out on screen.
const loginFormShown = `(() => { const u = document.querySelector('input[name=username]');
	return !!u && u.getBoundingClientRect().height >= 44 && !!document.querySelector('input[name=password]'); })()`

// BenchmarkShellRenderSlow3G measures the time to first render of the app
// shell on Slow 3G: a first visit with nothing cached (until the login form
// is laid out on screen, whether the first response's or the app's: the
// page's load event is not waited for), and a return visit of a logged-in
// user (until the app has opened its device database), which the service
// worker serves from its cache.
// Run: go test ./server/e2e/ -run '^$' -bench Slow3G -benchtime 3x
func BenchmarkShellRenderSlow3G(b *testing.B) {
	exe := chromiumPath(b)
	srv := startServer(b)
	srv.createUser(b, "bithu.an", "Nguyễn Văn An", "secretary")
	var first, repeat time.Duration
	for i := 0; i < b.N; i++ {
		br := newBrowser(b, exe, "slow3g", srv.url)
		br.slow3G()
		start := time.Now()
		br.startNavigation(srv.url + "/")
		br.waitJS("login form", loginFormShown)
		first += time.Since(start)
		// The app then takes the form over (it is what logs in).
		br.waitJS("the app's login form", `!!document.querySelector('#login-submit')`)

		br.offlineReset()
		br.login("bithu.an")
		br.slow3G()
		start = time.Now()
		br.reload()
		br.ready()
		repeat += time.Since(start)
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-first-visit")
	b.ReportMetric(float64(repeat.Milliseconds())/float64(b.N), "ms-return-visit")
}
