package sinopac

import (
	"slices"
	"strings"
)

// Code is a result code the bank puts at the start of Description
// ("E2101 – 訂單查詢條件不足"): a letter and four digits. Branch on
// APIError.Code with the Code… constants, never on the text.
type Code string

// The result codes of the bank's spec (§10.1) that the SDK, the simulator
// or the CLI name. Codes the table does not list are kept as they are.
const (
	CodeOK              Code = "S0000" // 處理成功
	CodeNoData          Code = "S0001" // 處理成功，查無資料: success with no data
	CodeBadSign         Code = "E0000" // 安全簽章錯誤
	CodeBadFormat       Code = "E0001" // 請求格式錯誤
	CodeShopWrong       Code = "E0100" // 商店代號錯誤
	CodeShopUnknown     Code = "E0101" // 商店代號不存在
	CodeDuplicateOrder  Code = "E0302" // 訂單編號重複: OrderNo already used
	CodeAmount          Code = "E0401" // 金額錯誤
	CodeOrderDateFormat Code = "E1901" // order date range: bad format
	CodeOrderDateEnd    Code = "E1902" // order date range: bad end
	CodeOrderDateBoth   Code = "E1903" // order date range: both ends required
	CodeOrderDateOrder  Code = "E1904" // order date range: start after end
	CodeNoCondition     Code = "E2101" // 訂單查詢條件不足
	CodeQueryFailed     Code = "E2199" // 查詢失敗
	CodePayTokenInvalid Code = "E2501" // 付款查詢 Token 錯誤
	CodeNotFound        Code = "E2601" // 資料不存在
	CodeOrderState      Code = "E2602" // the order's state forbids the command (simulator; see Code.Text)
	CodeRefundToken     Code = "E2603" // RefundToken unknown or expired (simulator; see Code.Text)
	CodeCardBound       Code = "E2706" // a card-binding result that comes with Status S
	CodeNonceError      Code = "E3001" // Nonce 錯誤
	CodeNonceInvalid    Code = "E3002" // Nonce 無效
	CodeNonceExpired    Code = "E3003" // Nonce 已逾期
	CodePayDateFormat   Code = "E3201" // pay date range: bad format
	CodePayDateEnd      Code = "E3202" // pay date range: bad end
	CodePayDateOrder    Code = "E3203" // pay date range: start after end
	CodePayDateBoth     Code = "E3204" // pay date range: both ends required
	CodeVersion         Code = "E3301" // 版本錯誤
	CodeNoService       Code = "E3401" // 查無此服務
	CodeMessageContent  Code = "E3501" // 訊息內容錯誤
	CodeBusy            Code = "E9900" // 系統忙碌中: retryable
	CodeSystem          Code = "E9999" // 系統發生未知錯誤
	CodeMaintenance     Code = "M0001" // 系統維護中: retryable
)

// codeInfo is one row of the code table: the bank's text and what it means
// for the merchant.
type codeInfo struct{ text, meaning string }

// codeTable is the one table of result codes: the simulator answers with
// these texts and the CLI explains codes with these meanings. It is never
// written after initialisation.
var codeTable = map[Code]codeInfo{
	CodeOK:              {"處理成功", "success"},
	CodeNoData:          {"處理成功，查無資料", "success, no data matched"},
	CodeBadSign:         {"安全簽章錯誤", "the bank could not verify the Sign: the hash keys do not belong to this ShopNo"},
	CodeBadFormat:       {"請求格式錯誤", "the request format was refused (a field is missing or malformed)"},
	CodeShopWrong:       {"商店代號錯誤", "the ShopNo is wrong"},
	CodeShopUnknown:     {"商店代號不存在", "the bank does not know this ShopNo (sandbox and production are separate)"},
	CodeDuplicateOrder:  {"訂單編號重複", "this OrderNo was used before: look it up instead of creating it again"},
	CodeAmount:          {"金額錯誤", "the amount was refused: it must be above 0, in whole NT$ (the wire's last two digits 00), within the PayType's limit and, for a refund, within what is left"},
	CodeOrderDateFormat: {"訂單日期格式錯誤", "order date range: a value is not yyyyMMddHHmm"},
	CodeOrderDateEnd:    {"訂單迄日格式錯誤", "order date range: the end is not yyyyMMddHHmm"},
	CodeOrderDateBoth:   {"訂單起訖日期皆須輸入", "order date range: both the start and the end are needed"},
	CodeOrderDateOrder:  {"訂單起日不可大於迄日", "order date range: the start is after the end"},
	CodeNoCondition:     {"訂單查詢條件不足", "no query condition: give an OrderNo, a PayType, a date range or a PayFlag"},
	CodeQueryFailed:     {"查詢失敗", "the query failed at the bank; try again later"},
	CodePayTokenInvalid: {"付款查詢 Token 錯誤", "the bank does not know this PayToken"},
	CodeNotFound:        {"資料不存在", "no such data at the bank"},
	CodeOrderState:      {"訂單狀態不允許此操作", "the order's state does not allow this command (simulator code)"},
	CodeRefundToken:     {"退款 Token 錯誤或已逾期", "the RefundToken is unknown or older than 120 s (simulator code)"},
	CodeCardBound:       {"卡片綁定", "card binding result; decide by Status, not by this code"},
	CodeNonceError:      {"Nonce 錯誤", "nonce error: a call needs a fresh nonce (retried with one)"},
	CodeNonceInvalid:    {"Nonce 無效", "nonce not valid: used before, or fetched from another IP address"},
	CodeNonceExpired:    {"Nonce 已逾期", "nonce expired: older than 60 s (slow network or clock?)"},
	CodePayDateFormat:   {"付款日期格式錯誤", "payment date range: a value is not yyyyMMddHHmm"},
	CodePayDateEnd:      {"付款迄日格式錯誤", "payment date range: the end is not yyyyMMddHHmm"},
	CodePayDateOrder:    {"付款起日不可大於迄日", "payment date range: the start is after the end"},
	CodePayDateBoth:     {"付款起訖日期皆須輸入", "payment date range: both the start and the end are needed"},
	CodeVersion:         {"版本錯誤", "the envelope version was refused"},
	CodeNoService:       {"查無此服務", "the bank does not offer this APIService to this shop"},
	CodeMessageContent:  {"訊息內容錯誤", "the bank could not read the message content: wrong hash keys?"},
	CodeBusy:            {"系統忙碌中", "the bank is busy: try again in a minute"},
	CodeSystem:          {"系統發生未知錯誤", "unknown system error at the bank: try again later, then ask the bank"},
	CodeMaintenance:     {"系統維護中", "the bank's system is under maintenance: try again later"},
}

// Text is the bank's text for the code ("訂單查詢條件不足"), or "" for a
// code the table does not list.
func (c Code) Text() string { return codeTable[c].text }

// Meaning says in English what the code means for the merchant and what to
// do, or "" for a code the table does not list.
func (c Code) Meaning() string { return codeTable[c].meaning }

// Known reports whether the table lists the code.
func (c Code) Known() bool { _, ok := codeTable[c]; return ok }

// Description is the code as the bank writes it in Description:
// "CODE – text" with an EN DASH, or the bare code when its text is unknown.
func (c Code) Description() string {
	if t := c.Text(); t != "" {
		return string(c) + " – " + t
	}
	return string(c)
}

// Retryable reports whether the bank says to try again later: busy,
// maintenance, or a nonce problem (a new attempt gets a new nonce).
func (c Code) Retryable() bool {
	switch c {
	case CodeBusy, CodeMaintenance, CodeNonceError, CodeNonceInvalid, CodeNonceExpired:
		return true
	}
	return false
}

// nonceRefusal reports the codes with which the bank refuses a call's
// nonce, before processing it.
func (c Code) nonceRefusal() bool {
	return c == CodeNonceError || c == CodeNonceInvalid || c == CodeNonceExpired
}

// Codes lists every code of the table, sorted.
func Codes() []Code {
	out := make([]Code, 0, len(codeTable))
	for c := range codeTable {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// parseDescription splits "S0000 – 處理成功" into its code and text. The
// bank separates them with an EN DASH; a plain dash or a space is tolerated.
func parseDescription(d string) (code Code, msg string) {
	d = strings.TrimSpace(d)
	for _, sep := range []string{"–", "-", "—", " "} {
		if i := strings.Index(d, sep); i > 0 {
			c := strings.TrimSpace(d[:i])
			if isCode(c) {
				return Code(c), strings.TrimSpace(d[i+len(sep):])
			}
		}
	}
	if isCode(d) {
		return Code(d), ""
	}
	return "", d
}

// isCode matches a result code: a letter and four digits ("E2101").
func isCode(s string) bool {
	if len(s) != 5 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < 5; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
