package detectors

// Builtin returns the built-in detectors, in a fixed order. Adding a detector
// means one file and one line here.
func Builtin() []Detector {
	return []Detector{
		MyNumberDetector{},
		CorporateNumberDetector{},
		PhoneDetector{},
		CreditCardDetector{},
		newAddress(),
	}
}

// IDs of the built-in detectors, as used in policies and events.
const (
	MyNumber        = "jp_my_number"
	CorporateNumber = "jp_corporate_number"
	Phone           = "jp_phone"
	Address         = "jp_address"
	CreditCard      = "credit_card"
)
