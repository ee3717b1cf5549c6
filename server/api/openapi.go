package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes every route of routes.go. It is written by hand;
// openapi_test.go fails when a registered route is missing from it or it
// documents a route that is not registered.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves the OpenAPI 3 document.
func (s *Server) openAPI(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSONCharsetUTF8, openAPIDocument)
}
