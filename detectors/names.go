package detectors

// displayNames are the names people read in notices and pages.
var displayNames = map[string][2]string{
	MyNumber:        {"個人番号(マイナンバー)", "My Number (individual number)"},
	CorporateNumber: {"法人番号", "corporate number"},
	Phone:           {"電話番号", "phone number"},
	Address:         {"住所", "postal address"},
	CreditCard:      {"クレジットカード番号", "payment card number"},
}

// DisplayName returns the Japanese and English names of a detector; a
// custom detector is shown by its ID.
func DisplayName(id string) (ja, en string) {
	if n, ok := displayNames[id]; ok {
		return n[0], n[1]
	}
	return id, id
}
