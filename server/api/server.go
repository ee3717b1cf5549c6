// Package api wires HTTP to the store and to the sync engine: the route
// table, authentication, role policy, request binding and the error envelope.
package api

import (
	"log/slog"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"dicoso/server/config"
	"dicoso/server/store"
)

// Deps is what the API needs from the rest of the program.
type Deps struct {
	Config config.Config
	Store  *store.Store
	Log    *slog.Logger
}

// Server holds the handlers' dependencies; handlers are its methods, one
// file per resource.
type Server struct {
	cfg       config.Config
	store     *store.Store
	log       *slog.Logger
	validator *validator.Validate
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
	s := &Server{
		cfg:       d.Config,
		store:     d.Store,
		log:       d.Log,
		validator: v,
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	s.echo = e
	s.routes(e)
	return s
}

// Handler is the http.Handler serving everything: API, operations and PWA.
func (s *Server) Handler() *echo.Echo { return s.echo }
