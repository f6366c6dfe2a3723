package rules

// IsFaxRecipient reports whether addr is an email-to-FAX gateway address
// (jp-dlp-domain.md §5): a local part of the RFC 3192 form FAX=number (any
// domain; also FAX#number), a domain on the gateway list whatever the local
// part (fax.tc, *.tpc.int, ...), or a number of 10 to 15 digits at a domain
// on the number-domain list. A mailbox merely named like fax-support@ is not
// a gateway. The address is compared after NFKC, case-insensitively.
func (p *Policy) IsFaxRecipient(addr string) bool {
	local, domain := splitAddress(addr)
	for _, re := range p.faxLocal {
		if re.MatchString(local) {
			return true
		}
	}
	if p.faxDomains.match(domain) {
		return true
	}
	if p.faxNumberDomains.match(domain) {
		digits := 0
		for i, r := range local {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case r == '+' && i == 0, r == '-', r == '.':
			default:
				return false
			}
		}
		return digits >= 10 && digits <= 15
	}
	return false
}
