package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/funbiz-go/sinopac"
)

// explainSDK classifies the SDK's typed errors. ok is false for errors the
// SDK did not produce.
func explainSDK(err error) (code int, msg string, ok bool) {
	var (
		ve      *sinopac.ValidationError
		ae      *sinopac.APIError
		ge      *sinopac.GatewayError
		ne      *sinopac.NetworkError
		me      *sinopac.MessageError
		unknown *sinopac.OutcomeUnknownError
		notDone *sinopac.NotProcessedError
		txt     = strings.ReplaceAll(err.Error(), "sinopac: ", "")
	)
	switch {
	case errors.As(err, &unknown):
		// Classified by its cause (3 network, 4 verification), said loudly.
		code, _, ok := explainSDK(unknown.Err)
		if !ok {
			code = exitFailed
		}
		return code, unknownOutcome(unknown), true
	case errors.As(err, &notDone):
		code, _, ok := explainSDK(notDone.Err)
		if !ok {
			code = exitNetwork
		}
		return code, txt + "\n  the request never reached the bank: running the same command again is safe", true
	case errors.As(err, &ve):
		field := ve.Field
		if f, ok := fieldFlags[ve.Field]; ok {
			field += " (" + f + ")"
		}
		return exitUsage, fmt.Sprintf("invalid %s: %s (nothing was sent)", field, ve.Reason), true
	case errors.Is(err, sinopac.ErrSignatureMismatch):
		return exitVerify, txt + ": the reply was altered, forged, or sealed with other keys; nothing of it was used", true
	case errors.Is(err, sinopac.ErrDuplicateField):
		return exitVerify, txt + ": a reply that names a field twice is refused whatever its Sign (altered on the way?); nothing of it was used", true
	case errors.Is(err, sinopac.ErrBadPadding), errors.Is(err, sinopac.ErrMessageNotHex), errors.Is(err, sinopac.ErrMessageTruncated):
		return exitVerify, txt + " (are the QPAY_HASH_* keys the ones of this shop?)", true
	case errors.As(err, &me):
		return exitVerify, txt + "; nothing of it was used", true
	case errors.As(err, &ae):
		if err != error(ae) { // wrapped: keep the context
			msg := txt
			return exitFailed, msg + codeNotes(ae.Code), true
		}
		return exitFailed, explainAPIError(ae), true
	case errors.As(err, &ge):
		return exitNetwork, txt + gatewayMeaning(ge), true
	case errors.As(err, &ne):
		msg := txt
		if ne.MaybeSent {
			msg += " (the request may have reached the bank: query the order before repeating a create or maintain)"
		}
		return exitNetwork, msg, true
	}
	return 0, "", false
}

// unknownOutcome says what is known of a create or maintain call the bank
// may or may not have carried out, and what to do: the SDK's own facts
// (SafeToResend, CheckAfter), in qpay's commands.
func unknownOutcome(u *sinopac.OutcomeUnknownError) string {
	msg := u.Service + " " + u.OrderNo + ": outcome unknown: " + u.Err.Error()
	if u.QueryErr != nil {
		msg += "; " + u.QueryErr.Error()
	}
	msg = strings.ReplaceAll(msg, "sinopac: ", "")
	query := "'qpay query --order-no " + u.OrderNo + "'"
	when := ""
	if !u.CheckAfter.IsZero() {
		when = " after " + u.CheckAfter.In(sinopac.Taipei).Format("15:04") + " (Taipei; the bank's query results can lag)"
	}
	switch {
	case u.Service == "OrderCreate":
		msg += "\n  the bank may or may not have created it: running the same create command again is safe" +
			" (if the bank holds the order, it is recognised and shown)"
		if when != "" {
			msg += ", or look it up with " + query + when
		}
	case u.SafeToResend():
		msg += "\n  the bank may or may not have done it: look the order up with " + query + when +
			"; repeating the command does no harm (the bank refuses a change already made)"
	default:
		msg += "\n  the bank may or may not have refunded it: do NOT run the refund again." +
			"\n  check the order's refunds with " + query + when +
			"; a refund that is not there may still be on its way: confirm with the bank before refunding again"
	}
	return msg
}

// fieldFlags names the flag behind a request field the SDK rejected.
var fieldFlags = map[string]string{
	"OrderNo": "--order-no", "Amount": "--amount", "PrdtName": "--product", "Memo": "--memo",
	"Param1": "--param1", "Param2": "--param2", "Param3": "--param3", "ReturnURL": "--return-url",
	"BackendURL": "--backend-url", "Remark": "--remark", "PayToken": "--token", "PayType": "--pay-type",
	"PayFlag": "--pay-flag", "OrderDateTimeS": "--from", "OrderDateTimeE": "--to",
	"PayDateTimeS": "--paid-from", "PayDateTimeE": "--paid-to", "ExpireDateTime": "--expire",
	"ATMParam.ExpireDate": "--expire", "ATMParam.ExpireTime": "--expire",
	"CardParam.AutoBilling": "--auto-billing", "CardParam.ExpBillingDays": "--exp-billing-days",
	"CardParam.ExpMinutes": "--exp-minutes", "CardParam.Staging": "--installments",
	"MobileParam.ExpMinutes": "--exp-minutes", "MobileParam.ChoosePay": "--choose-pay",
	"WalletParam.PayTypeSub": "--wallet", "QRCodeSize": "--qr-code",
}

func explainAPIError(ae *sinopac.APIError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the bank answered %s with Status %s: ", ae.Service, ae.Status)
	switch {
	case ae.Code != "" && ae.Message != "":
		fmt.Fprintf(&b, "%s %s", ae.Code, ae.Message)
	case ae.Code != "":
		b.WriteString(string(ae.Code))
	default:
		b.WriteString(ae.Description)
	}
	b.WriteString(codeNotes(ae.Code))
	return b.String()
}

// codeNotes are the meaning of a code, from the SDK's one code table
// (shared with the simulator), and a hint naming qpay's own flags or
// variables, as indented lines.
func codeNotes(c sinopac.Code) string {
	var s string
	if m := c.Meaning(); m != "" {
		s += "\n  meaning: " + m
	}
	if h, ok := codeHints[c]; ok {
		s += "\n  hint: " + h
	}
	return s
}

// codeHints say where in qpay's own inputs to look for a code. What a code
// means is sinopac.Code.Meaning; these only name flags and variables.
var codeHints = map[sinopac.Code]string{
	sinopac.CodeBadSign:         "check that the hash keys (QPAY_HASH_A1…B2, --hash-a1…, or the shop profile) belong to the shop number",
	sinopac.CodeShopWrong:       "check QPAY_SHOP_NO (or --shop-no, or the shop profile's shop_no)",
	sinopac.CodeShopUnknown:     "check the shop number, and QPAY_SANDBOX or QPAY_BASE_URL (or --sandbox, --base-url, the profile)",
	sinopac.CodeAmount:          "check --amount: whole NT$ within the pay type's limit; a refund at most what is left (see 'qpay query --order-no …')",
	sinopac.CodeDuplicateOrder:  "look the order up with 'qpay query --order-no …'",
	sinopac.CodeNoCondition:     "give --order-no, --pay-type, --from/--to, --paid-from/--paid-to or --pay-flag",
	sinopac.CodeOrderDateFormat: "check --from and --to",
	sinopac.CodeOrderDateEnd:    "check --to",
	sinopac.CodeOrderDateBoth:   "give both --from and --to",
	sinopac.CodeOrderDateOrder:  "--from must not be after --to",
	sinopac.CodePayDateFormat:   "check --paid-from and --paid-to",
	sinopac.CodePayDateEnd:      "check --paid-to",
	sinopac.CodePayDateBoth:     "give both --paid-from and --paid-to",
	sinopac.CodePayDateOrder:    "--paid-from must not be after --paid-to",
	sinopac.CodeMessageContent:  "check the hash keys (QPAY_HASH_A1…B2, --hash-a1…, or the shop profile)",
}

// gatewayMeaning says what an HTTP status from the gateway means for the
// operator.
func gatewayMeaning(ge *sinopac.GatewayError) string {
	msg := ""
	switch {
	case ge.StatusCode == 401:
		msg += "\n  meaning: the API key was refused: check QPAY_KEY_ID"
	case ge.StatusCode == 403 || ge.StatusCode == 404:
		msg += "\n  meaning: no QPay endpoint at this URL: check QPAY_BASE_URL"
	case ge.StatusCode == 429:
		msg += "\n  meaning: too many requests (about 5 per second are allowed): wait and retry"
	case ge.StatusCode == 499:
		msg += "\n  meaning: this machine's IP address is not on the shop's allow list at the bank"
	case ge.StatusCode >= 500:
		msg += "\n  meaning: the bank's gateway is failing: try again later"
	case ge.StatusCode == 200:
		msg += "\n  meaning: something other than QPay answered: check QPAY_BASE_URL"
	}
	if ge.RetryAfter > 0 {
		msg += fmt.Sprintf("\n  the gateway asks to retry after %s", ge.RetryAfter)
	}
	return msg
}
