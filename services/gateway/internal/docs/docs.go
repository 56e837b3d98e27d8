// Package docs serves the gateway's API documents: the OpenAPI 3.1 document of its HTTP
// API with Swagger UI at /docs, and the AsyncAPI 3.0 document of its Kafka topics.
// Swagger UI is vendored (scripts/vendor-swagger-ui.sh) and embedded: no CDN.
package docs

import (
	_ "embed" // the documents and Swagger UI's assets
	"net/http"

	"github.com/gin-gonic/gin"
)

// OpenAPI is the OpenAPI 3.1 document of the gateway's HTTP API.
//
//go:embed openapi.json
var OpenAPI []byte

var (
	//go:embed index.html
	indexHTML []byte
	//go:embed init.js
	initJS []byte
	//go:embed swaggerui/swagger-ui-bundle.js
	bundleJS []byte
	//go:embed swaggerui/swagger-ui.css
	css []byte
	//go:embed swaggerui/favicon-32x32.png
	favicon []byte
)

// Register adds GET /openapi.json, /asyncapi.json (the document given) and /docs with
// Swagger UI's assets under /docs/.
func Register(router gin.IRoutes, asyncAPI []byte) {
	router.GET("/openapi.json", serve("application/json", OpenAPI))
	router.GET("/asyncapi.json", serve("application/json", asyncAPI))
	router.GET("/docs", serve("text/html; charset=utf-8", indexHTML))
	router.GET("/docs/init.js", serve("text/javascript; charset=utf-8", initJS))
	router.GET("/docs/swagger-ui-bundle.js", serve("text/javascript; charset=utf-8", bundleJS))
	router.GET("/docs/swagger-ui.css", serve("text/css; charset=utf-8", css))
	router.GET("/docs/favicon-32x32.png", serve("image/png", favicon))
}

func serve(contentType string, body []byte) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Data(http.StatusOK, contentType, body)
	}
}
