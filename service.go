package sinopac

// service describes one APIService to the pipeline: the one place that
// says what the service is called, whether resending it is harmless, and
// which fields the bank's reply model has. Each service's descriptor lives
// in the service's own file (orderquery.go: orderQueryService, …).
type service struct {
	name string // APIService, e.g. "OrderQuery"
	// idempotent services change nothing at the bank: they may be resent
	// after an unknown outcome. Creates and maintain commands are not.
	idempotent bool
	// reply is the bank's reply model for the service (protocol §2a).
	reply replyModel
}

// replyModel lists the top-level scalar properties of the bank's typed
// reply model for one service, as its .NET sample declares them. The
// sample signs a reply from these properties (sorted case-insensitively,
// null and whitespace-only values dropped, an int absent from the JSON
// signed as 0), not from the raw JSON; objects and arrays never take part.
type replyModel []modelField

// modelField is one scalar property of a reply model.
type modelField struct {
	name   string
	number bool // a .NET int: absent from the JSON, it is signed as 0
}

// nonceEndpoint names the nonce step in errors (Service "Nonce"): it is an
// endpoint of its own, not an APIService.
const nonceEndpoint = "Nonce"

// services are the descriptors of the services the SDK models, by name,
// for Client.Call.
var services = map[string]*service{
	orderQueryService.name:      orderQueryService,
	orderPayQueryService.name:   orderPayQueryService,
	orderCreateService.name:     orderCreateService,
	orderMaintainService.name:   orderMaintainService,
	unCapturedQueryService.name: unCapturedQueryService,
	billQueryService.name:       billQueryService,
	allotQueryService.name:      allotQueryService,
}

// lookupService is the descriptor of a service by name; a service the SDK
// does not model is taken as one that may change something (never resent
// after an unknown outcome) and is verified by the raw-JSON rule only.
func lookupService(name string) *service {
	if s, ok := services[name]; ok {
		return s
	}
	return &service{name: name}
}

// strField is a string property of a reply model, intField an int one.
func strField(name string) modelField { return modelField{name: name} }
func intField(name string) modelField { return modelField{name: name, number: true} }
