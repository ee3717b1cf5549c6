// Package api wires HTTP to the store and to the sync engine: the route
// table, authentication, role policy, request binding and the error envelope.
package api

import (
	"log/slog"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"dicoso/server/auth"
	"dicoso/server/config"
	"dicoso/server/store"
	"dicoso/server/syncdb"
)

// Deps is what the API needs from the rest of the program.
type Deps struct {
	Config config.Config
	Store  *store.Store
	Log    *slog.Logger
	// Metrics is the registry /metrics serves; New makes one when nil and
	// registers the server's own collectors on it, so it serves one server.
	Metrics *Metrics
	// Auth logs users in and manages them. When nil, New makes one whose
	// signing key lives in memory only (tests of other resources).
	Auth *auth.Service
	// Sync merges pushes and serves pulls. It must be the program's one
	// engine over Store (it owns the server clock); New makes one when nil.
	Sync *syncdb.DB
}

// Server holds the handlers' dependencies; handlers are its methods, one
// file per resource.
type Server struct {
	cfg       config.Config
	store     *store.Store
	log       *slog.Logger
	validator *validator.Validate
	metrics   *Metrics
	auth      *auth.Service
	sync      *syncdb.DB
	notNull   *notNullColumns
	echo      *echo.Echo
}

// New builds the API with every route registered.
func New(d Deps) *Server {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report wire (JSON) names in validation errors, not Go field names.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	if d.Sync == nil {
		d.Sync = syncdb.New(d.Store, syncdb.Options{ClockSkew: d.Config.ClockSkew, Log: d.Log})
	}
	if d.Auth == nil {
		d.Auth = auth.Ephemeral(d.Store, auth.Options{AccessTTL: d.Config.AccessTTL, RefreshTTL: d.Config.RefreshTTL, Sync: d.Sync})
	}
	s := &Server{
		sync:      d.Sync,
		auth:      d.Auth,
		cfg:       d.Config,
		store:     d.Store,
		log:       d.Log,
		validator: v,
		metrics:   d.Metrics,
		notNull:   &notNullColumns{st: d.Store},
	}
	s.metrics.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dicoso_login_limiter_keys",
		Help: "Username+address pairs and addresses the failed-login limiter remembers (bounded by its cap).",
	}, func() float64 { return float64(s.auth.LimiterKeys()) }))
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = clientAddress(d.Config.TrustedProxies)
	s.echo = e
	s.routes(e)
	return s
}

// Metrics is the server's registry, for other parts of the program to
// register their collectors on.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Handler is the http.Handler serving everything: API, operations and PWA.
func (s *Server) Handler() *echo.Echo { return s.echo }
