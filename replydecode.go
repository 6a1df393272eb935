package sinopac

// The reply types' own decoding for the one-pass reader (jsondecode.go):
// one field method per struct, a switch on the exact member name and, for
// a name in another case, the field it folds to (names* lists are the
// types' json tags). FuzzReplyDecode holds each to encoding/json.

var (
	namesOrderQuery      = jsonNames[ResponseOrderQuery]()
	namesOrder           = jsonNames[Order]()
	namesATMParam        = jsonNames[ATMParam]()
	namesCardParam       = jsonNames[CardParam]()
	namesMobileParam     = jsonNames[MobileParam]()
	namesWalletParam     = jsonNames[WalletParam]()
	namesRefund          = jsonNames[Refund]()
	namesOrderPayQuery   = jsonNames[ResponseOrderPayQuery]()
	namesTSResult        = jsonNames[TSResult]()
	namesOrderCreate     = jsonNames[ResponseOrderCreate]()
	namesOrderMaintain   = jsonNames[ResponseOrderMaintain]()
	namesUnCapturedQuery = jsonNames[ResponseOrderUnCapturedQuery]()
	namesUnCapturedOrder = jsonNames[UnCapturedOrder]()
	namesBillQuery       = jsonNames[ResponseBillQuery]()
	namesBillItem        = jsonNames[BillItem]()
	namesAllotQuery      = jsonNames[ResponseAllotQuery]()
	namesAllot           = jsonNames[Allot]()
	namesAllotItem       = jsonNames[AllotItem]()
)

func (r *ResponseOrderQuery) reset() { *r = ResponseOrderQuery{} }

func (r *ResponseOrderQuery) field(d *decoder, name string) (bool, error) {
	switch name {
	case "ShopNo":
		return true, decodeString(d, &r.ShopNo)
	case "Date":
		return true, decodeTimestamp(d, &r.Date)
	case "Status":
		return true, decodeString(d, &r.Status)
	case "Description":
		return true, decodeString(d, &r.Description)
	case "OrderList":
		return true, decodeSlice(d, &r.OrderList, decodeOrder)
	}
	if n, ok := foldName(name, namesOrderQuery); ok {
		return r.field(d, n)
	}
	return false, nil
}

func decodeOrder(d *decoder, o *Order) error { return decodeStruct(d, o) }

func (o *Order) field(d *decoder, name string) (bool, error) {
	switch name {
	case "OrderNo":
		return true, decodeString(d, &o.OrderNo)
	case "TSNo":
		return true, decodeString(d, &o.TSNo)
	case "TSDate":
		return true, decodeTimestamp(d, &o.TSDate)
	case "ApprovedDate":
		return true, decodeTimestamp(d, &o.ApprovedDate)
	case "PayDate":
		return true, decodeTimestamp(d, &o.PayDate)
	case "Amount":
		return true, decodeAmount(d, &o.Amount)
	case "PayType":
		return true, decodeString(d, &o.PayType)
	case "PayStatus":
		return true, decodeString(d, &o.PayStatus)
	case "ExpireDate":
		return true, decodeTimestamp(d, &o.ExpireDate)
	case "RefundFlag":
		return true, decodeString(d, &o.RefundFlag)
	case "RefundStatus":
		return true, decodeString(d, &o.RefundStatus)
	case "RefundDate":
		return true, decodeTimestamp(d, &o.RefundDate)
	case "RefundAmount":
		return true, decodeAmount(d, &o.RefundAmount)
	case "PrdtName":
		return true, decodeString(d, &o.PrdtName)
	case "Memo":
		return true, decodeString(d, &o.Memo)
	case "Param1":
		return true, decodeString(d, &o.Param1)
	case "Param2":
		return true, decodeString(d, &o.Param2)
	case "Param3":
		return true, decodeString(d, &o.Param3)
	case "ATMParam":
		return true, decodePtr(d, &o.ATMParam)
	case "CardParam":
		return true, decodePtr(d, &o.CardParam)
	case "MobileParam":
		return true, decodePtr(d, &o.MobileParam)
	case "RefundList":
		return true, decodeSlice(d, &o.RefundList, decodeRefund)
	}
	if n, ok := foldName(name, namesOrder); ok {
		return o.field(d, n)
	}
	return false, nil
}

func (p *ATMParam) field(d *decoder, name string) (bool, error) {
	switch name {
	case "AtmPayNo":
		return true, decodeString(d, &p.AtmPayNo)
	case "WebAtmURL":
		return true, decodeString(d, &p.WebAtmURL)
	case "OtpURL":
		return true, decodeString(d, &p.OtpURL)
	case "BankNo":
		return true, decodeString(d, &p.BankNo)
	case "AcctNo":
		return true, decodeString(d, &p.AcctNo)
	}
	if n, ok := foldName(name, namesATMParam); ok {
		return p.field(d, n)
	}
	return false, nil
}

func (p *CardParam) field(d *decoder, name string) (bool, error) {
	switch name {
	case "CardPayURL":
		return true, decodeString(d, &p.CardPayURL)
	case "StagingFirstAmount":
		return true, decodeAmount(d, &p.StagingFirstAmount)
	case "StagingEachAmount":
		return true, decodeAmount(d, &p.StagingEachAmount)
	case "BonusCount":
		return true, decodeAmount(d, &p.BonusCount)
	case "BonusAmount":
		return true, decodeAmount(d, &p.BonusAmount)
	case "BonusPayAmount":
		return true, decodeAmount(d, &p.BonusPayAmount)
	case "BonusLastCount":
		return true, decodeAmount(d, &p.BonusLastCount)
	case "LeftCCNo":
		return true, decodeString(d, &p.LeftCCNo)
	case "RightCCNo":
		return true, decodeString(d, &p.RightCCNo)
	case "AuthCode":
		return true, decodeString(d, &p.AuthCode)
	case "CCExpDate":
		return true, decodeString(d, &p.CCExpDate)
	case "CCToken":
		return true, decodeString(d, &p.CCToken)
	}
	if n, ok := foldName(name, namesCardParam); ok {
		return p.field(d, n)
	}
	return false, nil
}

func (p *MobileParam) field(d *decoder, name string) (bool, error) {
	switch name {
	case "MobilePayURL":
		return true, decodeString(d, &p.MobilePayURL)
	case "LeftCCNo":
		return true, decodeString(d, &p.LeftCCNo)
	case "RightCCNo":
		return true, decodeString(d, &p.RightCCNo)
	case "AuthCode":
		return true, decodeString(d, &p.AuthCode)
	case "Paymenthod":
		return true, decodeString(d, &p.Paymenthod)
	}
	if n, ok := foldName(name, namesMobileParam); ok {
		return p.field(d, n)
	}
	return false, nil
}

func (p *WalletParam) field(d *decoder, name string) (bool, error) {
	if name == "WalletPayURL" {
		return true, decodeString(d, &p.WalletPayURL)
	}
	if n, ok := foldName(name, namesWalletParam); ok {
		return p.field(d, n)
	}
	return false, nil
}

func decodeRefund(d *decoder, r *Refund) error { return decodeStruct(d, r) }

func (r *Refund) field(d *decoder, name string) (bool, error) {
	switch name {
	case "RefundNo":
		return true, decodeString(d, &r.RefundNo)
	case "RefundDate":
		return true, decodeTimestamp(d, &r.RefundDate)
	case "RefundAmount":
		return true, decodeAmount(d, &r.RefundAmount)
	case "RefundStatus":
		return true, decodeString(d, &r.RefundStatus)
	}
	if n, ok := foldName(name, namesRefund); ok {
		return r.field(d, n)
	}
	return false, nil
}

func (r *ResponseOrderPayQuery) reset() { *r = ResponseOrderPayQuery{} }

func (r *ResponseOrderPayQuery) field(d *decoder, name string) (bool, error) {
	switch name {
	case "ShopNo":
		return true, decodeString(d, &r.ShopNo)
	case "PayToken":
		return true, decodeString(d, &r.PayToken)
	case "Date":
		return true, decodeTimestamp(d, &r.Date)
	case "Status":
		return true, decodeString(d, &r.Status)
	case "Description":
		return true, decodeString(d, &r.Description)
	case "TSResultContent":
		return true, decodeStruct(d, &r.TSResultContent)
	}
	if n, ok := foldName(name, namesOrderPayQuery); ok {
		return r.field(d, n)
	}
	return false, nil
}

func (t *TSResult) field(d *decoder, name string) (bool, error) {
	switch name {
	case "APType":
		return true, decodeString(d, &t.APType)
	case "TSNo":
		return true, decodeString(d, &t.TSNo)
	case "OrderNo":
		return true, decodeString(d, &t.OrderNo)
	case "ShopNo":
		return true, decodeString(d, &t.ShopNo)
	case "PayType":
		return true, decodeString(d, &t.PayType)
	case "Amount":
		return true, decodeAmount(d, &t.Amount)
	case "Status":
		return true, decodeString(d, &t.Status)
	case "Description":
		return true, decodeString(d, &t.Description)
	case "Param1":
		return true, decodeString(d, &t.Param1)
	case "Param2":
		return true, decodeString(d, &t.Param2)
	case "Param3":
		return true, decodeString(d, &t.Param3)
	case "LeftCCNo":
		return true, decodeString(d, &t.LeftCCNo)
	case "RightCCNo":
		return true, decodeString(d, &t.RightCCNo)
	case "CCExpDate":
		return true, decodeString(d, &t.CCExpDate)
	case "CCToken":
		return true, decodeString(d, &t.CCToken)
	case "PayDate":
		return true, decodeTimestamp(d, &t.PayDate)
	case "MasterOrderNo":
		return true, decodeString(d, &t.MasterOrderNo)
	case "BindNo":
		return true, decodeString(d, &t.BindNo)
	case "BindToken":
		return true, decodeString(d, &t.BindToken)
	case "CardType":
		return true, decodeString(d, &t.CardType)
	case "AuthResponseCode":
		return true, decodeString(d, &t.AuthResponseCode)
	case "AuthCode":
		return true, decodeString(d, &t.AuthCode)
	case "PayTypeSub":
		return true, decodeString(d, &t.PayTypeSub)
	}
	if n, ok := foldName(name, namesTSResult); ok {
		return t.field(d, n)
	}
	return false, nil
}

func (r *ResponseOrderCreate) reset() { *r = ResponseOrderCreate{} }

func (r *ResponseOrderCreate) field(d *decoder, name string) (bool, error) {
	switch name {
	case "OrderNo":
		return true, decodeString(d, &r.OrderNo)
	case "ShopNo":
		return true, decodeString(d, &r.ShopNo)
	case "TSNo":
		return true, decodeString(d, &r.TSNo)
	case "Amount":
		return true, decodeAmount(d, &r.Amount)
	case "Status":
		return true, decodeString(d, &r.Status)
	case "Description":
		return true, decodeString(d, &r.Description)
	case "Param1":
		return true, decodeString(d, &r.Param1)
	case "Param2":
		return true, decodeString(d, &r.Param2)
	case "Param3":
		return true, decodeString(d, &r.Param3)
	case "PayType":
		return true, decodeString(d, &r.PayType)
	case "QRCodeURL":
		return true, decodeString(d, &r.QRCodeURL)
	case "ATMParam":
		return true, decodePtr(d, &r.ATMParam)
	case "CardParam":
		return true, decodePtr(d, &r.CardParam)
	case "MobileParam":
		return true, decodePtr(d, &r.MobileParam)
	case "WalletParam":
		return true, decodePtr(d, &r.WalletParam)
	}
	if n, ok := foldName(name, namesOrderCreate); ok {
		return r.field(d, n)
	}
	return false, nil
}

func (r *ResponseOrderMaintain) reset() { *r = ResponseOrderMaintain{} }

func (r *ResponseOrderMaintain) field(d *decoder, name string) (bool, error) {
	switch name {
	case "OrderNo":
		return true, decodeString(d, &r.OrderNo)
	case "ShopNo":
		return true, decodeString(d, &r.ShopNo)
	case "TSNo":
		return true, decodeString(d, &r.TSNo)
	case "Command":
		return true, decodeString(d, &r.Command)
	case "Amount":
		return true, decodeAmount(d, &r.Amount)
	case "Date":
		return true, decodeTimestamp(d, &r.Date)
	case "Status":
		return true, decodeString(d, &r.Status)
	case "Description":
		return true, decodeString(d, &r.Description)
	case "RefundToken":
		return true, decodeString(d, &r.RefundToken)
	}
	if n, ok := foldName(name, namesOrderMaintain); ok {
		return r.field(d, n)
	}
	return false, nil
}

func (r *ResponseOrderUnCapturedQuery) reset() { *r = ResponseOrderUnCapturedQuery{} }

func (r *ResponseOrderUnCapturedQuery) field(d *decoder, name string) (bool, error) {
	switch name {
	case "ShopNo":
		return true, decodeString(d, &r.ShopNo)
	case "Date":
		return true, decodeTimestamp(d, &r.Date)
	case "Status":
		return true, decodeString(d, &r.Status)
	case "Description":
		return true, decodeString(d, &r.Description)
	case "OrderList":
		return true, decodeSlice(d, &r.OrderList, decodeUnCapturedOrder)
	}
	if n, ok := foldName(name, namesUnCapturedQuery); ok {
		return r.field(d, n)
	}
	return false, nil
}

func decodeUnCapturedOrder(d *decoder, o *UnCapturedOrder) error { return decodeStruct(d, o) }

func (o *UnCapturedOrder) field(d *decoder, name string) (bool, error) {
	switch name {
	case "OrderNo":
		return true, decodeString(d, &o.OrderNo)
	case "TSNo":
		return true, decodeString(d, &o.TSNo)
	case "TSDate":
		return true, decodeTimestamp(d, &o.TSDate)
	case "ApprovedDate":
		return true, decodeTimestamp(d, &o.ApprovedDate)
	case "ExpireDate":
		return true, decodeTimestamp(d, &o.ExpireDate)
	case "Amount":
		return true, decodeAmount(d, &o.Amount)
	case "PayType":
		return true, decodeString(d, &o.PayType)
	case "PrdtName":
		return true, decodeString(d, &o.PrdtName)
	case "Memo":
		return true, decodeString(d, &o.Memo)
	case "PayStatus":
		return true, decodeString(d, &o.PayStatus)
	case "AuthExpireDate":
		return true, decodeTimestamp(d, &o.AuthExpireDate)
	}
	if n, ok := foldName(name, namesUnCapturedOrder); ok {
		return o.field(d, n)
	}
	return false, nil
}

func (r *ResponseBillQuery) reset() { *r = ResponseBillQuery{} }

func (r *ResponseBillQuery) field(d *decoder, name string) (bool, error) {
	switch name {
	case "ShopNo":
		return true, decodeString(d, &r.ShopNo)
	case "Date":
		return true, decodeTimestamp(d, &r.Date)
	case "Status":
		return true, decodeString(d, &r.Status)
	case "Description":
		return true, decodeString(d, &r.Description)
	case "BillDate":
		return true, decodeTimestamp(d, &r.BillDate)
	case "OrderList":
		return true, decodeSlice(d, &r.OrderList, decodeBillItem)
	}
	if n, ok := foldName(name, namesBillQuery); ok {
		return r.field(d, n)
	}
	return false, nil
}

func decodeBillItem(d *decoder, b *BillItem) error { return decodeStruct(d, b) }

func (b *BillItem) field(d *decoder, name string) (bool, error) {
	switch name {
	case "TSNo":
		return true, decodeString(d, &b.TSNo)
	case "OrderNo":
		return true, decodeString(d, &b.OrderNo)
	case "TSType":
		return true, decodeString(d, &b.TSType)
	case "TSDate":
		return true, decodeTimestamp(d, &b.TSDate)
	case "PayDate":
		return true, decodeTimestamp(d, &b.PayDate)
	case "PayType":
		return true, decodeString(d, &b.PayType)
	case "Amount":
		return true, decodeAmount(d, &b.Amount)
	case "Param1":
		return true, decodeString(d, &b.Param1)
	case "Param2":
		return true, decodeString(d, &b.Param2)
	case "Param3":
		return true, decodeString(d, &b.Param3)
	}
	if n, ok := foldName(name, namesBillItem); ok {
		return b.field(d, n)
	}
	return false, nil
}

func (r *ResponseAllotQuery) reset() { *r = ResponseAllotQuery{} }

func (r *ResponseAllotQuery) field(d *decoder, name string) (bool, error) {
	switch name {
	case "ShopNo":
		return true, decodeString(d, &r.ShopNo)
	case "Date":
		return true, decodeTimestamp(d, &r.Date)
	case "Status":
		return true, decodeString(d, &r.Status)
	case "Description":
		return true, decodeString(d, &r.Description)
	case "Allot":
		return true, decodeSlice(d, &r.Allot, decodeAllot)
	}
	if n, ok := foldName(name, namesAllotQuery); ok {
		return r.field(d, n)
	}
	return false, nil
}

// decodeAllot follows Allot.UnmarshalJSON: an Allot is decoded afresh and
// replaces the element (null makes it zero), its net sums with a sign.
func decodeAllot(d *decoder, a *Allot) error {
	var fresh Allot
	switch d.peek() {
	case '{':
		if err := d.object(&fresh); err != nil {
			return err
		}
	case 'n':
		if err := d.null(); err != nil {
			return err
		}
	default:
		return d.mismatch()
	}
	*a = fresh
	return nil
}

func (a *Allot) field(d *decoder, name string) (bool, error) {
	switch name {
	case "AllotNo":
		return true, decodeString(d, &a.AllotNo)
	case "AllotDate":
		return true, decodeTimestamp(d, &a.AllotDate)
	case "PayType":
		return true, decodeString(d, &a.PayType)
	case "PayAmount":
		return true, decodeAmount(d, &a.PayAmount)
	case "RefundAmount":
		return true, decodeAmount(d, &a.RefundAmount)
	case "FeeAmount":
		return true, decodeAmount(d, &a.FeeAmount)
	case "ExtAllotAmount":
		return true, decodeSignedAmount(d, &a.ExtAllotAmount)
	case "AllotAmount":
		return true, decodeSignedAmount(d, &a.AllotAmount)
	case "Account":
		return true, decodeString(d, &a.Account)
	case "List":
		return true, decodeSlice(d, &a.List, decodeAllotItem)
	}
	if n, ok := foldName(name, namesAllot); ok {
		return a.field(d, n)
	}
	return false, nil
}

// decodeSignedAmount decodes a net sum, which may be negative.
func decodeSignedAmount(d *decoder, p *Amount) error {
	raw, err := d.raw()
	if err != nil {
		return err
	}
	return (*signedAmount)(p).UnmarshalJSON(raw)
}

func decodeAllotItem(d *decoder, it *AllotItem) error { return decodeStruct(d, it) }

func (it *AllotItem) field(d *decoder, name string) (bool, error) {
	switch name {
	case "TSNO":
		return true, decodeString(d, &it.TSNo)
	case "OrderNO":
		return true, decodeString(d, &it.OrderNo)
	case "PayDate":
		return true, decodeTimestamp(d, &it.PayDate)
	case "Amount":
		return true, decodeAmount(d, &it.Amount)
	case "Fee":
		return true, decodeAmount(d, &it.Fee)
	case "TSType":
		return true, decodeString(d, &it.TSType)
	}
	if n, ok := foldName(name, namesAllotItem); ok {
		return it.field(d, n)
	}
	return false, nil
}
