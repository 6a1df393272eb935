// Golden QR symbols from the npm package qrcode (an independent encoder):
// byte mode, level M, forced version and mask. One file per case: the
// first line "version mask text-length", then the text, then one line of
// 0/1 per row.
const QRCode = require('qrcode');
const fs = require('fs');
const out = process.argv[2];
const cases = [
  [1, 0, 'HELLO'],
  [1, 5, 'http://a.b/c'],
  [2, 3, 'https://example.com/p?x=1'],
  [5, 6, 'http://127.0.0.1:8080/QPay.WebPaySite/Bridge/PayCard?TD=NA0249'],
  [7, 2, 'http://127.0.0.1:41234/QPay.WebPaySite/Bridge/PayCard?TD=NA024901000001&TK=3f2a'],
  [8, 1, 'http://127.0.0.1:41234/QPay.WebPaySite/Bridge/PayCard?TD=NA024901000001&TK=3f2a9c1e-6b7d-4e1f-8a2b-0c9d8e7f6a5b'],
  [10, 4, 'http://127.0.0.1:41234/QPay.WebPaySite/Bridge/PayMobile?TD=NA024901000002&TK=3f2a9c1e-6b7d-4e1f-8a2b-0c9d8e7f6a5b&x=' + 'y'.repeat(60)],
  [15, 7, '豐收款 QPay ' + 'abcdefghij'.repeat(30)],
  [27, 0, 'z'.repeat(900)],
  [40, 3, 'q'.repeat(2331)],
];
for (const [v, m, text] of cases) {
  const q = QRCode.create([{ data: Buffer.from(text, 'utf8'), mode: 'byte' }], { version: v, errorCorrectionLevel: 'M', maskPattern: m });
  const size = q.modules.size;
  let s = `${v} ${m} ${Buffer.byteLength(text)}\n${text}\n`;
  for (let y = 0; y < size; y++) {
    let row = '';
    for (let x = 0; x < size; x++) row += q.modules.get(y, x) ? '1' : '0';
    s += row + '\n';
  }
  fs.writeFileSync(`${out}/v${v}-m${m}.txt`, s);
}
