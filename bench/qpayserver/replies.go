package main

import (
	"fmt"
	"strings"
	"time"
)

// singleReply is the seed document's OrderQuery reply, as the sandbox sent it.
var singleReply = []byte(`{"ShopNo":"NA0249_001","Date":"202110032253","Status":"S","Description":"S0000 – 處理成功","OrderList":[{"OrderNo":"A202110507397","TSNo":"NA024900000369","TSDate":"202110012243","PayDate":"202110012245","Amount":79900,"PayType":"A","PayStatus":"1A400","ExpireDate":"202110112359","RefundFlag":"N","RefundStatus":"","RefundDate":"","PrdtName":"虛擬帳號訂單","ATMParam":{"AtmPayNo":"99922530175613","WebAtmURL":"https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayWebATM?TD=NA024900000369&TK=3a83b2d6-76d0-4e66-a32b-66d55ceb74f3","OtpURL":"https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayOTP?TD=NA024900000369&TK=3a83b2d6-76d0-4e66-a32b-66d55ceb74f3","BankNo":"807","AcctNo":"01700100003411"},"RefundAmount":0}]}`)

// pageReply is a full page: 300 orders of the three pay types, in the
// member order of the seed's reply, with Chinese product names, card and
// mobile parameters and a refund on every 25th order.
func pageReply() []byte {
	var b strings.Builder
	b.WriteString(`{"ShopNo":"NA0249_001","Date":"202610312359","Status":"S","Description":"S0000 – 處理成功","OrderList":[`)
	day := time.Date(2026, 10, 1, 9, 0, 0, 0, time.FixedZone("Asia/Taipei", 8*3600))
	const layout = "200601021504"
	for i := range 300 {
		if i > 0 {
			b.WriteByte(',')
		}
		at := day.Add(time.Duration(i) * 97 * time.Minute)
		payType, status := "A", []string{"1A200", "1A400", "1A250", "1A900"}[i%4]
		switch i % 3 {
		case 1:
			payType, status = "C", []string{"1C200", "1C300", "1C400", "1C900"}[i%4]
		case 2:
			payType, status = "M", []string{"1M200", "1M400", "1M250", "1M900"}[i%4]
		}
		paid := strings.HasSuffix(status, "400") || strings.HasSuffix(status, "900")
		payDate := ""
		if paid {
			payDate = at.Add(35 * time.Minute).Format(layout)
		}
		refundFlag, refundStatus, refundDate, refundAmount := "N", "", "", 0
		if i%25 == 0 {
			refundFlag, refundStatus, refundDate, refundAmount = "Y", "2C900", at.Add(48*time.Hour).Format(layout), 19900
		}
		fmt.Fprintf(&b, `{"OrderNo":"A2026100%05d","TSNo":"NA02490%07d","TSDate":"%s","ApprovedDate":"%s","PayDate":"%s","Amount":%d,"PayType":"%s","PayStatus":"%s","ExpireDate":"%s","RefundFlag":"%s","RefundStatus":"%s","RefundDate":"%s","PrdtName":"豐收款測試商品－第%d號（限量款）","Memo":"備註：請於期限內付款","Param1":"member=%d","Param2":"campaign=autumn-2026","Param3":"",`,
			i, 100000+i, at.Format(layout), payDate, payDate, (i%40+1)*19900, payType, status, at.Add(72*time.Hour).Format(layout),
			refundFlag, refundStatus, refundDate, i, 7000+i)
		switch payType {
		case "A":
			fmt.Fprintf(&b, `"ATMParam":{"AtmPayNo":"99922530%06d","WebAtmURL":"https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayWebATM?TD=NA02490%07d&TK=3f9c1e2a-6b7d-4e1f-8a2b-%012d","OtpURL":"","BankNo":"807","AcctNo":"01700100003411"},`, i, 100000+i, i)
		case "C":
			fmt.Fprintf(&b, `"CardParam":{"CardPayURL":"https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayCard?TD=NA02490%07d&TK=8c1d","StagingFirstAmount":"","StagingEachAmount":"","BonusCount":"","BonusAmount":"","BonusPayAmount":"","BonusLastCount":"","LeftCCNo":"414352","RightCCNo":"0127","AuthCode":"%06d","CCExpDate":"1235","CCToken":""},`, 100000+i, 100000+i)
		default:
			b.WriteString(`"MobileParam":{"MobilePayURL":"https://sandbox.sinopac.com/QPay.WebPaySite/Bridge/PayMobile?TD=x","LeftCCNo":"414352","RightCCNo":"0127","AuthCode":"654321","Paymenthod":"A"},`)
		}
		if refundFlag == "Y" {
			fmt.Fprintf(&b, `"RefundList":[{"RefundNo":"R%07d","RefundDate":"%s","RefundAmount":19900,"RefundStatus":"2C900"}],`, i, refundDate)
		}
		fmt.Fprintf(&b, `"RefundAmount":%d}`, refundAmount)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
