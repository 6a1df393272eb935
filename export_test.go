package sinopac

import "net/http"

// OpenOrderQueryReply is the client's reply path for a body as it comes
// off the wire (openReply, decoding into r as QueryOrders does), for the
// benchmarks in bench_test.go.
func (c *Client) OpenOrderQueryReply(body []byte, r *ResponseOrderQuery) error {
	o, _, err := c.openReply(orderQueryService.name, http.StatusOK, nil, body, r)
	if err == nil {
		err = o.decodeErr
	}
	return err
}
